/* A gang: the workers one job runs on. The leader drives the model and
 * calls the kernels' parallel-for; helpers run its tasks. Helpers spin a
 * little between parallel-fors (they are the job's for its duration) and
 * sleep on a futex after that. */
#ifndef HWOPTD_GANG_H
#define HWOPTD_GANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

struct gang_work;

/* A polite busy-wait step. */
static inline void gang_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

struct gang {
	struct hwk_parallel par;      /* hand to the kernels */
	unsigned want;                /* helpers the gang may have */
	unsigned helpers;             /* recruited helpers (set before they join) */
	/* Called by the leader at its first parallel loop of more than one
	 * task (NULL: helpers were recruited up front); returns how many
	 * joined and sets helpers. */
	unsigned (*recruit)(struct gang *g, void *ctx);
	void *recruit_ctx;
	bool recruited;
	uint32_t spin_iters;          /* polls before a helper sleeps */
	struct gang_work *work;       /* the parallel-for in progress, or NULL (atomic) */
	uint32_t seq;                 /* futex word: bumped on new work and at the end */
	int sleepers;                 /* helpers waiting on seq */
	int active;                   /* helpers inside a work */
	int left;                     /* helpers that have left at the end */
	bool ending;
};

/* Prepares a gang of up to 1 + helpers threads for a leader: kernels see
 * that many threads. With no recruit hook the helpers are taken to be
 * recruited already. */
void gang_init(struct gang *g, unsigned helpers, uint32_t spin_iters);
/* A helper's part: runs tasks until the leader ends the gang. */
void gang_help(struct gang *g);
/* The leader's end: releases the helpers and waits until each has left. */
void gang_end(struct gang *g);

#endif
