/* Shared by the domain reader's tests: builders for small domain XMLs as
 * string literals, and the message prefixes they lead to. */
#pragma once

#define NS "urn:blixard:network-isolation:1"
#define META_NS "domain 'web1': metadata " NS ": "
#define IFACE0 "domain 'web1': interface 0: "

/* A small domain: name web1, metadata on line 3, interfaces on line 4. */
#define DOMAIN(meta, devices)                                                                      \
        "<domain type='qemu'>\n<name>web1</name>\n<metadata>" meta                                 \
        "</metadata>\n<devices>" devices "</devices>\n</domain>\n"
#define TENANT(attrs) DOMAIN("<netiso:isolation xmlns:netiso='" NS "' " attrs "/>", "")
#define PEER(ip) DOMAIN("", "<interface type='ethernet'><source><ip " ip "/></source></interface>")
#define FILTER(params)                                                                             \
        DOMAIN("", "<interface type='bridge'><source bridge='br0'/><filterref filter='f'>" params  \
                   "</filterref></interface>")
#define IFACE(body) DOMAIN("", "<interface type='ethernet'>" body "</interface>")
