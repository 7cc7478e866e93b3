/* sensorctl: main (being written; see README). */
#include <stdio.h>

int
main(void)
{
	printf("sensorctl %s\n", SENSORD_VERSION);
	return 0;
}
