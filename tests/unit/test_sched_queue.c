/* Unit tests for daemon/sched_queue.c: class order, aging, round-robin,
 * deadlines, expiry, removal, runnable checks and dynamic batching. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/sched_queue.h"

#define NEVER_AGE UINT64_MAX

/* --- jobs and ops ----------------------------------------------------------- */

struct job {
	struct sq_item it; /* first: a picked item is its job */
	int id;
	int state;         /* random tests: 0 unpushed, 1 queued, 2 out */
};

static struct job *job_of(struct sq_item *it)
{
	return (struct job *)it;
}

static void job_set(struct job *j, int id, enum sched_class cls, uint64_t client,
		    uint64_t arrival, uint64_t deadline)
{
	memset(j, 0, sizeof(*j));
	j->id = id;
	j->it.cls = cls;
	j->it.client = client;
	j->it.arrival_ns = arrival;
	j->it.deadline_ns = deadline;
	j->it.rows = 1;
}

static void job_batchable(struct job *j, const void *key, uint64_t shape, uint32_t rows)
{
	j->it.batch_key = key;
	j->it.shape_key = shape;
	j->it.rows = rows;
}

struct ctx {
	const struct sq_item *reject;  /* not runnable */
	int reject_cls;                /* items of this class not runnable; -1 none */
	uint32_t max_rows;
	uint64_t delay_ns;
	unsigned limits_calls;
	uint64_t rng;                  /* random tests: runnable 4 times in 5 */
};

static bool ctx_runnable(void *p, const struct sq_item *it)
{
	struct ctx *c = p;
	return it != c->reject && (int)it->cls != c->reject_cls;
}

static void ctx_limits(void *p, const void *key, uint32_t *max_rows, uint64_t *delay_ns)
{
	struct ctx *c = p;
	(void)key;
	c->limits_calls++;
	*max_rows = c->max_rows;
	*delay_ns = c->delay_ns;
}

static struct ctx ctx_plain(void)
{
	return (struct ctx){ .reject_cls = -1 };
}

static struct sq_ops ops_of(struct ctx *c)
{
	return (struct sq_ops){ .runnable = ctx_runnable, .batch_limits = ctx_limits, .ctx = c };
}

static void push(struct sq *q, struct job *j)
{
	assert_int_equal(sq_push(q, &j->it), 0);
}

/* One pick of at most one item: its id, or -1 when nothing may start. */
static int pick1(struct sq *q, uint64_t now, const struct sq_ops *ops)
{
	struct sq_item *out[1];
	uint64_t wake;
	size_t n = sq_pick(q, now, ops, out, 1, &wake);
	assert_in_range(n, 0, 1);
	return n ? job_of(out[0])->id : -1;
}

/* --- names ------------------------------------------------------------------- */

static void test_class_names(void **state)
{
	(void)state;
	enum sched_class c;
	for (int i = 0; i < SQ_N_CLASSES; i++) {
		assert_int_equal(sched_class_parse(sched_class_name((enum sched_class)i), &c), 0);
		assert_int_equal(c, i);
	}
	assert_string_equal(sched_class_name(SQ_INTERACTIVE), "interactive");
	assert_string_equal(sched_class_name(SQ_NORMAL), "normal");
	assert_string_equal(sched_class_name(SQ_BATCH), "batch");
	assert_int_equal(sched_class_parse("Batch", &c), -EINVAL);
	assert_int_equal(sched_class_parse("", &c), -EINVAL);
	assert_int_equal(sched_class_parse(NULL, &c), -EINVAL);
}

/* --- classes and aging ------------------------------------------------------- */

static void test_class_order(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	assert_non_null(q);
	struct job j[3];
	job_set(&j[0], 0, SQ_BATCH, 1, 0, 0);
	job_set(&j[1], 1, SQ_NORMAL, 2, 1, 0);
	job_set(&j[2], 2, SQ_INTERACTIVE, 3, 2, 0);
	for (int i = 0; i < 3; i++)
		push(q, &j[i]);
	assert_int_equal(sq_len(q), 3);
	assert_int_equal(sq_len_class(q, SQ_BATCH), 1);
	assert_int_equal(pick1(q, 10, NULL), 2);
	assert_int_equal(pick1(q, 10, NULL), 1);
	assert_int_equal(pick1(q, 10, NULL), 0);
	uint64_t wake = 0;
	struct sq_item *out[1];
	assert_int_equal(sq_pick(q, 10, NULL, out, 1, &wake), 0);
	assert_int_equal(wake, UINT64_MAX);
	assert_int_equal(sq_len(q), 0);
	sq_free(q);
}

static void test_batch_waits_while_normal_runnable(void **state)
{
	(void)state;
	struct sq *q = sq_new(1000);
	struct job j[3];
	job_set(&j[0], 0, SQ_BATCH, 1, 0, 0);  /* oldest, same client as 1 */
	job_set(&j[1], 1, SQ_NORMAL, 1, 5, 0);
	job_set(&j[2], 2, SQ_NORMAL, 2, 6, 0);
	for (int i = 0; i < 3; i++)
		push(q, &j[i]);
	struct ctx c = ctx_plain();
	struct sq_ops ops = ops_of(&c);
	assert_int_equal(pick1(q, 10, &ops), 1);
	assert_int_equal(pick1(q, 10, &ops), 2);
	assert_int_equal(pick1(q, 10, &ops), 0);
	sq_free(q);
}

static void test_batch_runs_when_normal_not_runnable(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[3];
	job_set(&j[0], 0, SQ_NORMAL, 1, 0, 0);
	job_set(&j[1], 1, SQ_NORMAL, 2, 0, 0);
	job_set(&j[2], 2, SQ_BATCH, 3, 0, 0);
	for (int i = 0; i < 3; i++)
		push(q, &j[i]);
	struct ctx c = ctx_plain();
	c.reject_cls = SQ_NORMAL;
	struct sq_ops ops = ops_of(&c);
	assert_int_equal(pick1(q, 10, &ops), 2);
	assert_int_equal(sq_len(q), 2);
	assert_int_equal(pick1(q, 10, &ops), -1);
	c.reject_cls = -1;
	assert_int_equal(pick1(q, 10, &ops), 0);
	assert_int_equal(pick1(q, 10, &ops), 1);
	sq_free(q);
}

/* Client A has 3 normal items, client B one batch item; all arrive at 0. */
static void aging_round(uint64_t now, const int *want)
{
	struct sq *q = sq_new(100);
	struct job j[4];
	for (int i = 0; i < 3; i++)
		job_set(&j[i], i, SQ_NORMAL, 1, 0, 0);
	job_set(&j[3], 3, SQ_BATCH, 2, 0, 0);
	for (int i = 0; i < 4; i++)
		push(q, &j[i]);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pick1(q, now, NULL), want[i]);
	sq_free(q);
}

static void test_aging_promotes_batch(void **state)
{
	(void)state;
	/* Not aged: batch last. Aged: B joins the normal round-robin. */
	aging_round(99, (const int[]){ 0, 1, 2, 3 });
	aging_round(100, (const int[]){ 0, 3, 1, 2 });
}

/* Within one client an aged batch item is ordered with the normal items by
 * deadline, then arrival; it still counts as batch. */
static void test_aging_orders_within_client(void **state)
{
	(void)state;
	for (int aged = 0; aged < 2; aged++) {
		struct sq *q = sq_new(100);
		struct job j[3];
		job_set(&j[0], 0, SQ_BATCH, 7, 0, 0);
		job_set(&j[1], 1, SQ_NORMAL, 7, 50, 500);
		job_set(&j[2], 2, SQ_NORMAL, 7, 60, 0);
		for (int i = 0; i < 3; i++)
			push(q, &j[i]);
		uint64_t now = aged ? 100 : 99;
		assert_int_equal(pick1(q, now, NULL), 1);
		assert_int_equal(sq_len_class(q, SQ_BATCH), 1);
		assert_int_equal(pick1(q, now, NULL), aged ? 0 : 2);
		assert_int_equal(pick1(q, now, NULL), aged ? 2 : 0);
		assert_int_equal(sq_len_class(q, SQ_BATCH), 0);
		sq_free(q);
	}
}

/* An aged batch item with a deadline goes among the normal deadlines. */
static void test_aging_with_deadline(void **state)
{
	(void)state;
	struct sq *q = sq_new(100);
	struct job j[3];
	job_set(&j[0], 0, SQ_NORMAL, 7, 0, 400);
	job_set(&j[1], 1, SQ_NORMAL, 7, 0, 0);
	job_set(&j[2], 2, SQ_BATCH, 7, 10, 300);
	for (int i = 0; i < 3; i++)
		push(q, &j[i]);
	assert_int_equal(sq_next_deadline(q), 300);
	assert_int_equal(pick1(q, 110, NULL), 2);
	assert_int_equal(pick1(q, 110, NULL), 0);
	assert_int_equal(pick1(q, 110, NULL), 1);
	sq_free(q);
}

static void test_set_batch_age(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[2];
	job_set(&j[0], 0, SQ_BATCH, 1, 0, 0);
	job_set(&j[1], 1, SQ_NORMAL, 1, 5, 0);
	push(q, &j[0]);
	push(q, &j[1]);
	sq_set_batch_age(q, 10);
	assert_int_equal(pick1(q, 10, NULL), 0);
	assert_int_equal(pick1(q, 10, NULL), 1);
	sq_free(q);
}

/* --- round-robin and deadlines ------------------------------------------------ */

static void test_round_robin_fairness(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	static struct job j[103];
	for (int i = 0; i < 100; i++) {
		job_set(&j[i], i, SQ_NORMAL, 1, (uint64_t)i, 0);
		push(q, &j[i]);
	}
	for (int i = 100; i < 103; i++) {
		job_set(&j[i], i, SQ_NORMAL, 2, (uint64_t)i, 0);
		push(q, &j[i]);
	}
	const int want[6] = { 0, 100, 1, 101, 2, 102 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(pick1(q, 1000, NULL), want[i]);
	for (int i = 3; i < 100; i++)
		assert_int_equal(pick1(q, 1000, NULL), i);
	assert_int_equal(sq_len(q), 0);
	sq_free(q);
}

/* A client that arrives mid-round waits for the end of the round. */
static void test_round_robin_newcomer(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[7];
	for (int i = 0; i < 6; i++) {
		job_set(&j[i], i, SQ_NORMAL, (uint64_t)(i % 3), 0, 0); /* A B C A B C */
		push(q, &j[i]);
	}
	assert_int_equal(pick1(q, 1, NULL), 0); /* A; cursor at B */
	job_set(&j[6], 6, SQ_NORMAL, 9, 1, 0);
	push(q, &j[6]);
	assert_int_equal(pick1(q, 1, NULL), 1);
	assert_int_equal(pick1(q, 1, NULL), 2);
	assert_int_equal(pick1(q, 1, NULL), 3);
	assert_int_equal(pick1(q, 1, NULL), 6);
	assert_int_equal(pick1(q, 1, NULL), 4);
	assert_int_equal(pick1(q, 1, NULL), 5);
	sq_free(q);
}

static void test_edf_within_client(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	const uint64_t dl[6] = { 30, 10, 20, 0, 10, 0 };
	struct job j[6];
	for (int i = 0; i < 6; i++) {
		job_set(&j[i], i, SQ_NORMAL, 1, 0, dl[i]);
		push(q, &j[i]);
	}
	assert_int_equal(sq_next_deadline(q), 10);
	const int want[6] = { 1, 4, 2, 0, 3, 5 };
	for (int i = 0; i < 6; i++)
		assert_int_equal(pick1(q, 1, NULL), want[i]);
	assert_int_equal(sq_next_deadline(q), UINT64_MAX);
	sq_free(q);
}

static void test_expired_popped_never_picked(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[4];
	job_set(&j[0], 0, SQ_INTERACTIVE, 1, 0, 10);
	job_set(&j[1], 1, SQ_NORMAL, 2, 0, 20);
	job_set(&j[2], 2, SQ_NORMAL, 2, 0, 0);
	job_set(&j[3], 3, SQ_BATCH, 3, 0, 25);
	for (int i = 0; i < 4; i++)
		push(q, &j[i]);
	assert_int_equal(sq_next_deadline(q), 10);
	assert_null(sq_pop_expired(q, 9));
	assert_ptr_equal(sq_pop_expired(q, 10), &j[0].it); /* at the deadline */
	assert_null(sq_pop_expired(q, 10));
	assert_int_equal(sq_next_deadline(q), 20);
	assert_ptr_equal(sq_pop_expired(q, 30), &j[1].it);
	assert_ptr_equal(sq_pop_expired(q, 30), &j[3].it);
	assert_null(sq_pop_expired(q, 30));
	assert_false(j[0].it.queued);
	assert_int_equal(sq_next_deadline(q), UINT64_MAX);
	assert_int_equal(sq_len(q), 1);
	assert_int_equal(pick1(q, 30, NULL), 2);
	assert_int_equal(pick1(q, 30, NULL), -1);
	sq_free(q);
}

static void test_remove(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job a[3], b;
	for (int i = 0; i < 3; i++) {
		job_set(&a[i], i, SQ_NORMAL, 1, 0, i == 0 ? 50 : 0);
		push(q, &a[i]);
	}
	job_set(&b, 10, SQ_NORMAL, 2, 0, 70);
	push(q, &b);
	assert_int_equal(sq_next_deadline(q), 50);

	sq_remove(q, &a[1].it); /* middle */
	assert_int_equal(sq_len(q), 3);
	sq_remove(q, &a[0].it); /* head, with the earliest deadline */
	assert_int_equal(sq_next_deadline(q), 70);
	sq_remove(q, &a[0].it); /* not queued: no-op */
	assert_int_equal(sq_len(q), 2);
	sq_remove(q, &b.it);    /* its client's only item */
	assert_int_equal(sq_next_deadline(q), UINT64_MAX);
	assert_int_equal(sq_len(q), 1);
	assert_int_equal(sq_len_class(q, SQ_NORMAL), 1);

	assert_int_equal(pick1(q, 1, NULL), 2);
	assert_int_equal(pick1(q, 1, NULL), -1);

	/* Removed items can be queued again. */
	push(q, &b);
	push(q, &a[0]);
	assert_int_equal(sq_push(q, &a[0].it), -EINVAL); /* already queued */
	assert_int_equal(sq_len(q), 2);
	assert_int_equal(pick1(q, 1, NULL), 10);
	assert_int_equal(pick1(q, 1, NULL), 0);
	sq_free(q);
}

static void test_runnable_skips_first_item(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[2];
	job_set(&j[0], 0, SQ_NORMAL, 1, 0, 0);
	job_set(&j[1], 1, SQ_NORMAL, 1, 1, 0);
	push(q, &j[0]);
	push(q, &j[1]);
	struct ctx c = ctx_plain();
	c.reject = &j[0].it;
	struct sq_ops ops = ops_of(&c);
	assert_int_equal(pick1(q, 5, &ops), 1);
	assert_int_equal(pick1(q, 5, &ops), -1);
	c.reject = NULL;
	assert_int_equal(pick1(q, 5, &ops), 0);
	sq_free(q);
}

/* --- batching -------------------------------------------------------------------- */

static const int model_a, model_b;

static void test_batch_waits_for_delay(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[3];
	for (int i = 0; i < 3; i++) {
		job_set(&j[i], i, SQ_NORMAL, (uint64_t)i + 1, 100, 0);
		job_batchable(&j[i], &model_a, 1, 1);
		push(q, &j[i]);
	}
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 1000;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[8];
	uint64_t wake = 0;
	assert_int_equal(sq_pick(q, 110, &ops, out, 8, &wake), 0);
	assert_int_equal(wake, 1100);
	assert_int_equal(sq_len(q), 3);
	assert_int_equal(sq_pick(q, 1099, &ops, out, 8, &wake), 0);
	assert_int_equal(sq_pick(q, 1100, &ops, out, 8, &wake), 3);
	assert_int_equal(wake, UINT64_MAX);
	for (int i = 0; i < 3; i++) {
		assert_ptr_equal(out[i], &j[i].it);
		assert_false(j[i].it.queued);
	}
	assert_int_equal(sq_len(q), 0);
	sq_free(q);
}

/* Waiting for companions stops halfway to the earliest deadline among the
 * batch's items: batching must not make a request miss its deadline. */
static void test_batch_wait_bounded_by_deadline(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[2];
	job_set(&j[0], 0, SQ_NORMAL, 1, 100, 0);
	job_set(&j[1], 1, SQ_NORMAL, 2, 150, 500);
	for (int i = 0; i < 2; i++) {
		job_batchable(&j[i], &model_a, 1, 1);
		push(q, &j[i]);
	}
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 1000;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[8];
	uint64_t wake = 0;
	assert_int_equal(sq_pick(q, 200, &ops, out, 8, &wake), 0);
	assert_int_equal(wake, 300); /* 100 + (500 - 100) / 2, not 1100 */
	assert_int_equal(sq_pick(q, 300, &ops, out, 8, &wake), 2);
	sq_free(q);
}

/* A waiting batch passes over to other work, in this class and below, and
 * keeps its client's turn. */
static void test_batch_not_ready_passes_over(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job a, b, z;
	job_set(&a, 0, SQ_NORMAL, 1, 100, 0);
	job_batchable(&a, &model_a, 1, 1);
	job_set(&b, 1, SQ_NORMAL, 2, 100, 0);
	job_set(&z, 2, SQ_BATCH, 3, 100, 0);
	push(q, &a);
	push(q, &b);
	push(q, &z);
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 1000;
	c.reject = &b.it;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[4];
	uint64_t wake = 0;
	assert_int_equal(sq_pick(q, 200, &ops, out, 4, &wake), 1);
	assert_ptr_equal(out[0], &z.it);
	assert_int_equal(wake, 1100);
	assert_int_equal(sq_pick(q, 200, &ops, out, 4, &wake), 0);
	assert_int_equal(wake, 1100);
	/* Both may run now: A's client still has the turn. */
	c.reject = NULL;
	assert_int_equal(sq_pick(q, 1100, &ops, out, 4, &wake), 1);
	assert_ptr_equal(out[0], &a.it);
	assert_int_equal(sq_pick(q, 1100, &ops, out, 4, &wake), 1);
	assert_ptr_equal(out[0], &b.it);
	sq_free(q);
}

static void test_batch_full_runs_at_once(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[3];
	const uint32_t rows[3] = { 1, 3, 2 };
	for (int i = 0; i < 3; i++) {
		job_set(&j[i], i, SQ_NORMAL, (uint64_t)i + 1, 100, 0);
		job_batchable(&j[i], &model_a, 7, rows[i]);
		push(q, &j[i]);
	}
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 1000;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[8];
	uint64_t wake;
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, &wake), 2); /* 1 + 3 */
	assert_ptr_equal(out[0], &j[0].it);
	assert_ptr_equal(out[1], &j[1].it);
	assert_int_equal(wake, UINT64_MAX);
	/* The rest is not full: it waits. */
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, &wake), 0);
	assert_int_equal(wake, 1100);
	sq_free(q);
}

/* Items that do not fit are skipped; a later smaller one may still fit. */
static void test_batch_skips_what_does_not_fit(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[3];
	const uint32_t rows[3] = { 3, 2, 1 };
	for (int i = 0; i < 3; i++) {
		job_set(&j[i], i, SQ_NORMAL, 1, 100, 0);
		job_batchable(&j[i], &model_a, 7, rows[i]);
		push(q, &j[i]);
	}
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 1000;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[8];
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, NULL), 2);
	assert_ptr_equal(out[0], &j[0].it);
	assert_ptr_equal(out[1], &j[2].it);
	assert_true(j[1].it.queued);
	sq_free(q);
}

static void test_batch_incompatible_not_batched(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[5];
	job_set(&j[0], 0, SQ_NORMAL, 1, 100, 0);
	job_batchable(&j[0], &model_a, 1, 1);
	job_set(&j[1], 1, SQ_NORMAL, 2, 100, 0);
	job_batchable(&j[1], &model_a, 2, 1);       /* other shape */
	job_set(&j[2], 2, SQ_NORMAL, 3, 100, 0);
	job_batchable(&j[2], &model_b, 1, 1);       /* other model */
	job_set(&j[3], 3, SQ_INTERACTIVE, 4, 100, 0);
	job_batchable(&j[3], &model_a, 1, 1);       /* other class */
	job_set(&j[4], 4, SQ_NORMAL, 5, 100, 0); /* not batchable */
	for (int i = 0; i < 5; i++)
		push(q, &j[i]);
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 0;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[8];
	const int want[5] = { 3, 0, 1, 2, 4 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sq_pick(q, 100, &ops, out, 8, NULL), 1);
		assert_int_equal(job_of(out[0])->id, want[i]);
	}
	sq_free(q);
}

static void test_batch_large_item_alone(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[3];
	const uint32_t rows[3] = { 8, 4, 1 };
	for (int i = 0; i < 3; i++) {
		job_set(&j[i], i, SQ_NORMAL, 1, 100, 0);
		job_batchable(&j[i], &model_a, 7, rows[i]);
		push(q, &j[i]);
	}
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 1000;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[8];
	uint64_t wake;
	/* Over max_rows, then at max_rows: alone and at once. */
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, &wake), 1);
	assert_ptr_equal(out[0], &j[0].it);
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, &wake), 1);
	assert_ptr_equal(out[0], &j[1].it);
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, &wake), 0);
	/* max_rows of 1: no batching, no waiting. */
	c.max_rows = 1;
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, &wake), 1);
	assert_ptr_equal(out[0], &j[2].it);
	sq_free(q);
}

static void test_batch_max_out(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[5];
	for (int i = 0; i < 5; i++) {
		job_set(&j[i], i, SQ_NORMAL, (uint64_t)(i % 2), 100, 0);
		job_batchable(&j[i], &model_a, 1, 1);
		push(q, &j[i]);
	}
	struct ctx c = ctx_plain();
	c.max_rows = 16;
	c.delay_ns = 1000;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[3];
	/* Filling max_out makes the batch full: it does not wait. */
	assert_int_equal(sq_pick(q, 100, &ops, out, 3, NULL), 3);
	/* Client 0's items first, then client 1's. */
	assert_ptr_equal(out[0], &j[0].it);
	assert_ptr_equal(out[1], &j[2].it);
	assert_ptr_equal(out[2], &j[4].it);
	assert_int_equal(sq_pick(q, 100, &ops, out, 3, NULL), 0);
	assert_int_equal(sq_pick(q, 1100, &ops, out, 3, NULL), 2);
	assert_int_equal(sq_len(q), 0);
	sq_free(q);
}

/* Companions must be runnable too. */
static void test_batch_companion_not_runnable(void **state)
{
	(void)state;
	struct sq *q = sq_new(NEVER_AGE);
	struct job j[3];
	for (int i = 0; i < 3; i++) {
		job_set(&j[i], i, SQ_NORMAL, (uint64_t)i, 100, 0);
		job_batchable(&j[i], &model_a, 1, 1);
		push(q, &j[i]);
	}
	struct ctx c = ctx_plain();
	c.max_rows = 4;
	c.delay_ns = 0;
	c.reject = &j[1].it;
	struct sq_ops ops = ops_of(&c);
	struct sq_item *out[8];
	assert_int_equal(sq_pick(q, 100, &ops, out, 8, NULL), 2);
	assert_ptr_equal(out[0], &j[0].it);
	assert_ptr_equal(out[1], &j[2].it);
	sq_free(q);
}

/* --- randomized ---------------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool rnd_runnable(void *p, const struct sq_item *it)
{
	struct ctx *c = p;
	(void)it;
	return rnd(&c->rng) % 5 != 0;
}

enum { RJOBS = 3000, RCLIENTS = 60, RAGE = 400 };

struct rand_run {
	struct sq *q;
	struct job *j;
	int pushed;
	uint64_t now, rng;
	struct ctx ctx;
	struct sq_ops ops;
	bool strict;  /* no batching, all runnable: check the chosen item */
	/* what happened, so the run is known to cover each path */
	unsigned expired, removed, batches, waits, aged;
};

static void check_counts(const struct rand_run *r)
{
	size_t per[SQ_N_CLASSES] = { 0 }, total = 0;
	uint64_t min_dl = UINT64_MAX;
	for (int i = 0; i < r->pushed; i++) {
		const struct job *j = &r->j[i];
		if (j->state != 1)
			continue;
		assert_true(j->it.queued);
		per[j->it.cls]++;
		total++;
		if (j->it.deadline_ns && j->it.deadline_ns < min_dl)
			min_dl = j->it.deadline_ns;
	}
	assert_int_equal(sq_len(r->q), total);
	for (int c = 0; c < SQ_N_CLASSES; c++)
		assert_int_equal(sq_len_class(r->q, (enum sched_class)c), per[c]);
	assert_int_equal(sq_next_deadline(r->q), min_dl);
}

static void rand_push(struct rand_run *r)
{
	struct job *j = &r->j[r->pushed];
	uint64_t x = rnd(&r->rng);
	enum sched_class cls = x % 10 < 2 ? SQ_INTERACTIVE : x % 10 < 6 ? SQ_NORMAL : SQ_BATCH;
	uint64_t deadline = (x >> 8) % 5 == 0 ? r->now + 1 + (x >> 16) % 3000 : 0;
	job_set(j, r->pushed, cls, (x >> 24) % RCLIENTS, r->now, deadline);
	if (!r->strict && (x >> 32) % 3 == 0)
		job_batchable(j, (x >> 36) % 2 ? &model_a : &model_b, (x >> 40) % 2,
			      1 + (uint32_t)((x >> 44) % 4));
	push(r->q, j);
	j->state = 1;
	r->pushed++;
}

static void rand_remove(struct rand_run *r)
{
	if (!r->pushed)
		return;
	struct job *j = &r->j[rnd(&r->rng) % (uint64_t)r->pushed];
	r->removed += j->state == 1;
	sq_remove(r->q, &j->it); /* a no-op when it is already out */
	j->state = 2;
}

static enum sched_class effective_class(const struct sq_item *it, uint64_t now)
{
	if (it->cls == SQ_BATCH && now - it->arrival_ns >= RAGE)
		return SQ_NORMAL;
	return it->cls;
}

static bool served_before(const struct sq_item *a, const struct sq_item *b)
{
	if (a->deadline_ns != b->deadline_ns) {
		if (!a->deadline_ns || !b->deadline_ns)
			return a->deadline_ns != 0;
		return a->deadline_ns < b->deadline_ns;
	}
	return a->seq < b->seq;
}

/* With everything runnable and no batching, the pick is in the best class
 * present and first in its client's order there. */
static void check_choice(const struct rand_run *r, const struct sq_item *got)
{
	enum sched_class cls = effective_class(got, r->now);
	for (int i = 0; i < r->pushed; i++) {
		const struct sq_item *it = &r->j[i].it;
		if (r->j[i].state != 1)
			continue;
		enum sched_class c = effective_class(it, r->now);
		assert_true(c >= cls);
		if (c == cls && it->client == got->client && it != got)
			assert_true(served_before(got, it));
	}
}

static void check_batch(const struct rand_run *r, struct sq_item **out, size_t n,
			size_t max_out)
{
	assert_in_range(n, 1, max_out);
	uint64_t rows = 0;
	for (size_t i = 0; i < n; i++) {
		struct job *j = job_of(out[i]);
		assert_int_equal(j->state, 1);
		assert_false(out[i]->queued);
		assert_true(out[i]->deadline_ns == 0 || out[i]->deadline_ns > r->now);
		j->state = 2;
		rows += out[i]->rows;
		if (i > 0) {
			assert_ptr_equal(out[i]->batch_key, out[0]->batch_key);
			assert_int_equal(out[i]->shape_key, out[0]->shape_key);
			assert_int_equal(out[i]->cls, out[0]->cls);
		}
	}
	if (n > 1)
		assert_true(rows <= r->ctx.max_rows);
}

static void rand_pick(struct rand_run *r)
{
	struct sq_item *it, *out[8];
	while ((it = sq_pop_expired(r->q, r->now))) {
		assert_int_equal(job_of(it)->state, 1);
		assert_true(it->deadline_ns && it->deadline_ns <= r->now);
		job_of(it)->state = 2;
		r->expired++;
	}
	size_t max_out = r->strict ? 1 : 1 + rnd(&r->rng) % 8;
	size_t before = sq_len(r->q);
	uint64_t wake;
	size_t n = sq_pick(r->q, r->now, &r->ops, out, max_out, &wake);
	assert_int_equal(sq_len(r->q), before - n);
	if (r->strict) {
		assert_int_equal(n, before ? 1 : 0);
		if (n)
			check_choice(r, out[0]);
	}
	if (n) {
		check_batch(r, out, n, max_out);
		r->batches += n > 1;
		r->aged += out[0]->cls == SQ_BATCH &&
			   effective_class(out[0], r->now) == SQ_NORMAL;
	}
	if (wake != UINT64_MAX) {
		assert_true(wake > r->now);
		r->waits++;
	}
}

static void rand_drain(struct rand_run *r)
{
	/* All runnable, every batch's delay over: each round must progress. */
	r->ops.runnable = NULL;
	r->now += 1000000;
	for (size_t left = sq_len(r->q); left; left = sq_len(r->q)) {
		rand_pick(r);
		assert_true(sq_len(r->q) < left);
	}
	for (int i = 0; i < RJOBS; i++)
		assert_int_equal(r->j[i].state, 2);
}

static void rand_run(bool strict, uint64_t seed)
{
	struct rand_run r = { .strict = strict, .rng = seed };
	r.q = sq_new(RAGE);
	r.j = calloc(RJOBS, sizeof(*r.j));
	assert_non_null(r.q);
	assert_non_null(r.j);
	r.ctx = ctx_plain();
	r.ctx.rng = seed ^ 0x9e3779b97f4a7c15ULL;
	r.ctx.max_rows = 6;
	r.ctx.delay_ns = 150;
	r.ops = (struct sq_ops){ .runnable = strict ? NULL : rnd_runnable,
				 .batch_limits = strict ? NULL : ctx_limits, .ctx = &r.ctx };
	while (r.pushed < RJOBS) {
		uint64_t x = rnd(&r.rng) % 100;
		if (x < 55)
			rand_push(&r);
		else if (x < 62)
			rand_remove(&r);
		else
			rand_pick(&r);
		r.now += rnd(&r.rng) % 7;
		check_counts(&r);
	}
	rand_drain(&r);
	check_counts(&r);
	assert_true(r.expired > 0 && r.removed > 0 && r.aged > 0);
	if (!strict)
		assert_true(r.batches > 0 && r.waits > 0);
	sq_free(r.q);
	free(r.j);
}

static void test_random_exactly_once(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++)
		rand_run(false, seed * 0x2545f4914f6cdd1dULL);
}

static void test_random_strict_order(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++)
		rand_run(true, seed * 0x9e3779b97f4a7c15ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_names),
		cmocka_unit_test(test_class_order),
		cmocka_unit_test(test_batch_waits_while_normal_runnable),
		cmocka_unit_test(test_batch_runs_when_normal_not_runnable),
		cmocka_unit_test(test_aging_promotes_batch),
		cmocka_unit_test(test_aging_orders_within_client),
		cmocka_unit_test(test_aging_with_deadline),
		cmocka_unit_test(test_set_batch_age),
		cmocka_unit_test(test_round_robin_fairness),
		cmocka_unit_test(test_round_robin_newcomer),
		cmocka_unit_test(test_edf_within_client),
		cmocka_unit_test(test_expired_popped_never_picked),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_runnable_skips_first_item),
		cmocka_unit_test(test_batch_waits_for_delay),
		cmocka_unit_test(test_batch_wait_bounded_by_deadline),
		cmocka_unit_test(test_batch_not_ready_passes_over),
		cmocka_unit_test(test_batch_full_runs_at_once),
		cmocka_unit_test(test_batch_skips_what_does_not_fit),
		cmocka_unit_test(test_batch_incompatible_not_batched),
		cmocka_unit_test(test_batch_large_item_alone),
		cmocka_unit_test(test_batch_max_out),
		cmocka_unit_test(test_batch_companion_not_runnable),
		cmocka_unit_test(test_random_exactly_once),
		cmocka_unit_test(test_random_strict_order),
	};
	return cmocka_run_group_tests_name("daemon/sched_queue", tests, NULL, NULL);
}
