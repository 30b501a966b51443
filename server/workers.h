/* server/workers.h — a fixed pool of threads for blocking work (database, images).
 *
 * Jobs are queued FIFO up to a bound. Each thread owns a state made by thread_init
 * (for the server: a database connection) and passes it to every job it runs.
 * A job's run and then its done callback both run on the worker thread; done is
 * where the job hands itself back to an event loop. */
#ifndef PC_SERVER_WORKERS_H
#define PC_SERVER_WORKERS_H

#include <stddef.h>

struct pc_workers;

struct pc_job {
    struct pc_job *next; /* queue link, owned by the pool while queued */
    void (*run)(struct pc_job *job, void *thread_state);
    void (*done)(struct pc_job *job);
};

/* Starts n threads. thread_init(arg) runs first on each thread and returns its state;
 * thread_fini(state) runs when the thread ends. Main thread. Never NULL (aborts). */
struct pc_workers *pc_workers_new(int n, int queue_max, void *(*thread_init)(void *arg),
                                  void (*thread_fini)(void *state), void *arg);
/* Queues a job (the pool borrows it until done). 0, or PC_EBUSY when the queue is full
 * or the pool is stopping. Any thread. */
int pc_workers_submit(struct pc_workers *w, struct pc_job *job);
/* Jobs queued and not yet started. Any thread. */
size_t pc_workers_queued(struct pc_workers *w);
/* Jobs running now. Any thread. */
size_t pc_workers_busy(struct pc_workers *w);
/* Lets queued jobs finish, joins the threads and frees the pool. NULL-safe. Main thread. */
void pc_workers_free(struct pc_workers *w);

#endif
