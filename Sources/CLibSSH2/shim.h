#ifndef PATCHCTL_CLIBSSH2_SHIM_H
#define PATCHCTL_CLIBSSH2_SHIM_H
#include <libssh2.h>
#include <libssh2_publickey.h>
#include <libssh2_sftp.h>
#ifdef __linux__
/* Glibc's Swift module leaves out epoll and eventfd; the reactor that drives libssh2's sockets needs them. */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
#endif
