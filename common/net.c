/* net.c: the listening sockets of net.h. */
#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "config.h"

static ks_rc listen_unix(const char *path, int backlog, int *out, ks_err_t *err)
{
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, error;

    if (path[0] != '/')
        return ks_err(err, KS_INVALID, "listen \"unix:%s\": the socket path must be absolute",
                      path);
    if (strlen(path) >= sizeof address.sun_path)
        return ks_err(err, KS_INVALID, "listen \"unix:%s\": path longer than %zu bytes", path,
                      sizeof address.sun_path - 1);
    strcpy(address.sun_path, path);
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return ks_err(err, KS_ERROR, "listen \"unix:%s\": a file that is not a socket is "
                          "in the way", path);
        /* A socket someone answers on belongs to a running server. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&address, sizeof address) == 0) {
            close(fd);
            return ks_err(err, KS_ERROR, "listen \"unix:%s\": another server is listening "
                          "there", path);
        }
        if (fd >= 0)
            close(fd);
        unlink(path);
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        return ks_err(err, KS_ERROR, "socket() failed (%d: %s)", error, strerror(error));
    }
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 || chmod(path, 0666) != 0 ||
        listen(fd, backlog) != 0) {
        error = errno;
        close(fd);
        unlink(path);
        return ks_err(err, KS_ERROR, "bind()/listen() \"unix:%s\" failed (%d: %s)", path, error,
                      strerror(error));
    }
    *out = fd;
    return KS_OK;
}

static ks_rc listen_tcp(const char *spec, int backlog, int *out, ks_err_t *err)
{
    char host[256], port_text[16];
    struct addrinfo hints = {0}, *addresses, *a;
    int port, fd = -1, error = 0, gai;
    size_t host_length;
    ks_rc rc;

    if ((rc = ks_config_parse_hostport(spec, host, sizeof host, &port, err)) != KS_OK)
        return rc;
    snprintf(port_text, sizeof port_text, "%d", port);
    host_length = strlen(host);
    if (host_length >= 2 && host[0] == '[' && host[host_length - 1] == ']') {   /* [::1] */
        memmove(host, host + 1, host_length - 2);
        host[host_length - 2] = '\0';
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    gai = getaddrinfo(host[0] ? host : NULL, port_text, &hints, &addresses);
    if (gai != 0)
        return ks_err(err, KS_INVALID, "listen \"%s\": getaddrinfo() failed (%s)", spec,
                      gai_strerror(gai));
    for (a = addresses; a; a = a->ai_next) {
        int on = 1;
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        error = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(addresses);
    if (fd < 0)
        return ks_err(err, KS_ERROR, "bind() \"%s\" failed (%d: %s)", spec, error,
                      strerror(error));
    *out = fd;
    return KS_OK;
}

ks_rc ks_net_listen(const char *spec, int backlog, int *fd, ks_err_t *err)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return listen_unix(spec + 5, backlog, fd, err);
    return listen_tcp(spec, backlog, fd, err);
}

void ks_net_unlink(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        unlink(spec + 5);
}
