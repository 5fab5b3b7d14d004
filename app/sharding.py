"""Which queries may cross users, and why: the one list that README "Scaling" points to and
the test suite's statement check (tests/statements.py) reads.

Every other statement that reads, changes or deletes rows of a user-owned table (one with a
`user_id` column) must name the user: a `user_id` condition (`=`, `IN`, `= ANY`), or a join on
`user_id` to a table that has one. On Citus, distributed by `user_id`, such a statement is
routed to the one shard that holds the user; one without it runs on every shard.
"""

from __future__ import annotations

# Tables shared by every user: small, read far more than written, replicated to every node
# on Citus (`SELECT create_reference_table('users')` and the same for each), so any query on
# them stays on the node that runs it. Every other table has a `user_id` and is distributed
# by it.
REFERENCE_TABLES: dict[str, str] = {
    "users": "the members; `id` is the shard key the other tables carry as `user_id`",
    "invites": "one-time invitations, found by the code's hash before anyone owns them",
    "login_attempts": "sign-in throttle windows, keyed by a hash of the account or address",
    "instance_settings": "one row of settings for the whole instance",
    "group_templates": (
        "templates members publish to the whole group: every member reads them all (its "
        "`user_id` names the author, not an owner)"
    ),
}

# Functions (a module, or a module's function by its qualified name) whose statements may
# touch user-owned tables of every user. On Citus each runs as a distributed query: the
# coordinator sends it to every shard in parallel and merges the answers, which is right
# for a lookup that does not know the user yet and for the worker, and each is bounded (by
# a unique hash, a `LIMIT` or a batch size).
CROSS_USER_QUERIES: dict[str, str] = {
    "app.accounts.repository.web_session_with_user": (
        "a signed-in request finds its user by the cookie's hash: one probe of the unique "
        "index on every shard (the cookie does not carry the user id)"
    ),
    "app.accounts.repository.user_for_token_hash": (
        "an API request finds its user by the token's hash, as for the cookie"
    ),
    "app.accounts.reads.user_for_token": (
        "the fast reads (app/web/fastpath.py) find the token's user by its hash inside their own "
        "statement (a CTE, as user_for_token_hash); the rows they read are then the user's"
    ),
    "app.accounts.reads.user_for_session": (
        "Today's fast path (app/web/fastpath.py) finds the session's user by the cookie's "
        "hash, as web_session_with_user; Today's rows are then read by the user's id"
    ),
    "app.followups.reads.page_rows": "a fast read: the token's user by hash, as above",
    "app.interviews.reads.interview_row": "a fast read: the token's user by hash, as above",
    "app.accounts.repository.delete_web_session": "signing out by the cookie's hash, as above",
    "app.reminders.repository.claim_reset": (
        "a password-reset link finds its user by the link's hash, as for the cookie"
    ),
    "app.queue": (
        "the worker's queue (outbox, webhook deliveries): it claims due rows of every user "
        "(FOR UPDATE SKIP LOCKED, LIMIT) and then marks them by id"
    ),
    "app.reminders.repository.claim": "the worker reads the outbox rows it claimed, by id",
    "app.webhooks.repository.claim": "the worker reads the deliveries it claimed, by id",
    "app.webhooks.repository.page_of_webhooks": (
        "the worker pages through every user's webhooks (keyset, LIMIT) to find due events"
    ),
    "app.mailbox.watch_repository.claim": "the worker claims due mailboxes of every user",
    "app.mailbox.watch_repository.claimed_mailbox": "the worker reads a mailbox it claimed",
    "app.mailbox.watch_repository.finish": "the worker gives a claimed mailbox back",
    "app.retention": "the worker prunes expired rows of every user, a batch at a time",
    "app.metrics.Metrics._read_gauges": (
        "/metrics counts the instance's queues (outbox, deliveries, watched mailboxes)"
    ),
}
