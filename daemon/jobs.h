/* Inference jobs on the loop thread: made from an infer request, queued in
 * the scheduler, cancelled, and answered when a worker has finished them. */
#ifndef HWOPTD_JOBS_H
#define HWOPTD_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "sched_queue.h"
#include "server.h"
#include "tensor_json.h"

struct hwoptd;
struct client;
struct model;
struct run;

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };


struct job {
	struct sq_item q;           /* first: the queue hands out &job->q */
	uint64_t id;
	struct hwoptd *d;
	struct client *client;
	struct hwoptd_call *call;
	struct model *model;
	enum job_state state;       /* scheduler lock */
	int cancel;                 /* set by job.cancel (atomic) */
	struct run *run;            /* while running (scheduler lock) */

	size_t n_in, n_out;
	struct tensor_src *in;      /* model input order */
	struct tensor_dst *out;     /* model output order; pool NULL: inline */
	void *in_buf;               /* decoded inline inputs (worker) */
	bool base64;                /* inline outputs as data_b64 */
	uint64_t arrival_ns, start_ns, end_ns, compute_ns;
	size_t batch_size;          /* requests in the run that served it */

	/* outcome, filled by whoever ends the job */
	char *line;                 /* the encoded answer */
	size_t len;
	int outcome;                /* 0 ok, else the protocol error code */
	uint16_t n_workers;

	struct job *cprev, *cnext;  /* the client's jobs */
	struct job *done_next;
};

/* The infer method. */
void jobs_infer(struct hwoptd *d, struct hwoptd_call *call, const cJSON *params);
/* Ends a job a worker or the scheduler has finished (loop thread). */
void jobs_finish(struct hwoptd *d, struct job *j);
/* Cancels one job: a queued one is answered now, a running one stops at
 * its next node boundary. Returns the state it was in. */
enum job_state jobs_cancel(struct hwoptd *d, struct job *j);
void jobs_cancel_client(struct hwoptd *d, struct client *c);
/* Cancels every job of a model (unload grace over); returns how many. */
unsigned jobs_cancel_model(struct hwoptd *d, struct model *m);
/* The job with that id, or NULL. */
struct job *jobs_find(struct hwoptd *d, uint64_t id);
cJSON *jobs_json(struct hwoptd *d, const struct job *j, uint64_t now);
uint64_t jobs_now_ns(void); /* CLOCK_MONOTONIC, as jobs measure time */

#endif
