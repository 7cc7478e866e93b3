/* sensord: main (being written; see README). */
#include <stdio.h>

int
main(void)
{
	printf("sensord %s\n", SENSORD_VERSION);
	return 0;
}
