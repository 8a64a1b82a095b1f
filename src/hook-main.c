/* The libvirt qemu hook (being written). */
#include "autoconfig.h"

int
main(int argc, char **argv)
{
        return 0;
}
