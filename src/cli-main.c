/* blixard-netiso command (being written). */
#include "autoconfig.h"

#include "cli.h"

int
main(int argc, char **argv)
{
        return 2;
}
