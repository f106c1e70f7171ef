// Linked into every executable of a ThreadSanitizer build (EVENT_ENGINE_SANITIZE_THREAD,
// docs/testing.md "ThreadSanitizer"), never into anything else.
//
// libzmq is not built with TSan, so the synchronisation inside it (the lock-free ypipe between
// two sockets of an inproc pair, the mailboxes of its I/O threads) is invisible to TSan. A
// message built by one thread and read by another after zmq_msg_send/zmq_msg_recv would then
// be reported as a race in event_engine's own code (the writer's memcpy into the message, the
// reader's parse), a false positive. These wrappers tell TSan what ZeroMQ guarantees: whatever
// a thread did before sending a message happens before whatever a thread does after receiving
// one. They do not suppress reports: they add the happens-before edges that libzmq's atomics
// give.
//
// The same holds for a message's end: libzmq counts the references to a message's content
// (several subscribers of an inproc PUB can hold the same one) with an atomic counter, and the
// last zmq_msg_close runs the content's free function (event_engine's own for zero-copy frames,
// detail/endpoints/sockets.hpp). So whatever a thread did before closing its reference happens before the
// free function runs in whichever thread closes the last one.
//
// The edges are coarse: one synchronisation object for every socket, so any send happens before
// any later receive, not only those of the same socket pair (and any close before any later
// one). A race between two threads that both exchange ZeroMQ messages in between (with anyone)
// can therefore go unreported; a race between threads that do not, or on data touched without
// any message in between, is reported.
//
// The wrappers take the place of libzmq's functions for this executable's calls (a definition
// in the executable comes first in symbol lookup) and call libzmq's through dlsym(RTLD_NEXT).
#include <dlfcn.h>
#include <zmq.h>

#include <cstdio>
#include <cstdlib>

extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);

namespace {

char every_socket;  // the synchronisation object of send and receive: its address only
char every_message; // the one of zmq_msg_close

template <typename Function>
Function libzmq(const char* name)
{
    void* found = dlsym(RTLD_NEXT, name);
    if (found == nullptr) {
        std::fprintf(stderr, "zmq_happens_before.cpp: libzmq's %s not found: %s\n", name, dlerror());
        std::abort();
    }
    return reinterpret_cast<Function>(found);
}

} // namespace

extern "C" {

int zmq_msg_send(zmq_msg_t* message, void* socket, int flags)
{
    static const auto send = libzmq<int (*)(zmq_msg_t*, void*, int)>("zmq_msg_send");
    __tsan_release(&every_socket);
    return send(message, socket, flags);
}

int zmq_send(void* socket, const void* buffer, size_t length, int flags)
{
    static const auto send = libzmq<int (*)(void*, const void*, size_t, int)>("zmq_send");
    __tsan_release(&every_socket);
    return send(socket, buffer, length, flags);
}

int zmq_send_const(void* socket, const void* buffer, size_t length, int flags)
{
    static const auto send = libzmq<int (*)(void*, const void*, size_t, int)>("zmq_send_const");
    __tsan_release(&every_socket);
    return send(socket, buffer, length, flags);
}

int zmq_msg_recv(zmq_msg_t* message, void* socket, int flags)
{
    static const auto receive = libzmq<int (*)(zmq_msg_t*, void*, int)>("zmq_msg_recv");
    const int result = receive(message, socket, flags);
    __tsan_acquire(&every_socket);
    return result;
}

int zmq_recv(void* socket, void* buffer, size_t length, int flags)
{
    static const auto receive = libzmq<int (*)(void*, void*, size_t, int)>("zmq_recv");
    const int result = receive(socket, buffer, length, flags);
    __tsan_acquire(&every_socket);
    return result;
}

int zmq_msg_close(zmq_msg_t* message)
{
    static const auto close = libzmq<int (*)(zmq_msg_t*)>("zmq_msg_close");
    __tsan_release(&every_message);
    __tsan_acquire(&every_message); // the other references' closes, before a free function runs
    return close(message);
}

} // extern "C"
