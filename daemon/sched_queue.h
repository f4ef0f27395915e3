/* The job queue's ordering rules, with no threads, locks or clock of its
 * own: the caller passes the time and holds whatever lock guards the queue.
 *
 * Order of service:
 *  1. Classes: interactive before normal before batch. A batch item that has
 *     waited batch_age_ns or longer competes as a normal item (aging), so a
 *     busy machine still finishes batch work. Otherwise batch items run only
 *     when no interactive or normal item is runnable.
 *  2. Within a class, clients take turns (round-robin): one busy client
 *     cannot starve the others.
 *  3. Within a client's items of a class: earliest deadline first; items
 *     without a deadline follow those with one, in arrival order.
 * An item is runnable when ops->runnable says so (a model instance is free).
 * Dynamic batching: picking a batchable item also takes the queued items
 * with the same batch_key and shape_key (any client, same class, in the
 * class's order) while their rows fit max_rows. A batch that is not full
 * waits until its first item has been queued delay_ns (or half the time to
 * the earliest deadline among its items, when that is sooner); meanwhile the pick
 * passes it over and reports when it becomes ready in *wake_at.
 *
 * Details the rules above leave open:
 *  - Aging is decided at pick time and is one-way: an aged batch item stays
 *    in its client's normal order even if batch_age_ns is raised later.
 *    sq_len_class still counts it as batch (by its cls field).
 *  - "Same class" for batching means the same cls field. A batch led by an
 *    aged batch item also takes the not yet aged ones, after the aged ones.
 *  - A batch is full when its rows reach max_rows or it holds max_out items;
 *    a full batch starts at once. Items that do not fit are skipped (the
 *    next smaller one may fit), and each companion must be runnable too.
 *  - A batch that is not ready does not block the classes below it. */
#ifndef HWOPTD_SCHED_QUEUE_H
#define HWOPTD_SCHED_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sched_class { SQ_INTERACTIVE, SQ_NORMAL, SQ_BATCH, SQ_N_CLASSES };
const char *sched_class_name(enum sched_class c);      /* "interactive", ... */
int sched_class_parse(const char *s, enum sched_class *out); /* 0 or -EINVAL */

struct sq_client;

/* Embedded in the caller's job; the caller zeroes the whole item once
 * (calloc or = {0}), fills the first block before sq_push and must not
 * change it while queued. The private part is valid between pushes. */
struct sq_item {
	enum sched_class cls;
	uint64_t client;      /* fairness key (connection id) */
	uint64_t arrival_ns;
	uint64_t deadline_ns; /* 0: none */
	const void *batch_key;/* NULL: not batchable (else e.g. the model) */
	uint64_t shape_key;   /* equal for items whose inputs stack along dim 0 */
	uint32_t rows;        /* dim 0 of the inputs (1 when not batchable) */

	/* queue-private */
	uint64_t seq;
	struct sq_item *prev, *next;  /* in its client's list for its class */
	struct sq_client *owner;
	struct sq_item *age_prev, *age_next; /* batch items not aged yet, by arrival */
	bool queued;
};

struct sq_ops {
	/* May the item start now (a model instance is free)? NULL: always. */
	bool (*runnable)(void *ctx, const struct sq_item *it);
	/* The batching limits of a batchable item's batch_key (max_rows <= 1:
	 * no batching). NULL: no batching. A NULL ops means both are NULL. */
	void (*batch_limits)(void *ctx, const void *batch_key, uint32_t *max_rows,
			     uint64_t *delay_ns);
	void *ctx;
};

struct sq;

struct sq *sq_new(uint64_t batch_age_ns);
void sq_free(struct sq *q); /* the queue must be empty */
void sq_set_batch_age(struct sq *q, uint64_t batch_age_ns);

/* Queues it. Never fails once the caller has checked sq_len against its
 * bound (-ENOMEM only when a new client's bookkeeping cannot be allocated;
 * -EINVAL for a bad cls or an item already queued, both caller bugs). */
int sq_push(struct sq *q, struct sq_item *it);
/* Removes a queued item (cancel, disconnect). No-op when not queued. */
void sq_remove(struct sq *q, struct sq_item *it);

/* Removes and returns one item whose deadline is at or before now, or NULL.
 * Call until NULL before picking: expired items never run. */
struct sq_item *sq_pop_expired(struct sq *q, uint64_t now);

/* Picks what runs next: one item, or a batch of up to max_out compatible
 * items, removed from the queue and written to out (the first is the one
 * the order chose). Returns how many; 0 when nothing may start now. *wake_at
 * (may be NULL) receives the earliest time a waiting batch becomes ready,
 * UINT64_MAX when none waits. */
size_t sq_pick(struct sq *q, uint64_t now, const struct sq_ops *ops, struct sq_item **out,
	       size_t max_out, uint64_t *wake_at);

size_t sq_len(const struct sq *q);
size_t sq_len_class(const struct sq *q, enum sched_class c);
/* Earliest deadline among queued items, UINT64_MAX when none has one. */
uint64_t sq_next_deadline(const struct sq *q);

#endif
