"""Every text the Teams adapter writes to people or to the log, in one place.

Log lines never contain secrets or customer text; ids only.
"""

from __future__ import annotations

# --- log lines ---------------------------------------------------------------------------------
LOG_REFUSED = (
    "Teams is not mounted: no MICROSOFT_APP_ID is configured and BATON_TEAMS_LOCAL_MODE is off. "
    "Set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (see docs/teams.md), or set "
    "BATON_TEAMS_LOCAL_MODE=true to accept unauthenticated activities on a local machine."
)
LOG_NO_PASSWORD = (
    "Teams is not mounted: MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is missing; "
    "create a client secret for the app registration (see docs/teams.md)."
)
LOG_LOCAL_MODE = "Teams runs in LOCAL MODE: activities on /api/messages are NOT authenticated. Never use this in a deployment."
LOG_AUTH_ON = "Teams is mounted on /api/messages with Bot Framework authentication (app id %s, %s)."
LOG_NO_QUEUE_CHANNEL = (
    "No Teams channel is known for queue %s, so the card of ticket %s was not posted. "
    "@mention Baton in the right channel with 'use this channel as the %s queue', or install Baton in a team."
)
LOG_TURN_FAILED = "Teams activity %s (%s) failed"
LOG_UNAUTHORIZED = "Teams activity rejected: %s"
LOG_MEMBER_LOOKUP = "member lookup failed for activity %s; using the activity's own data"
LOG_QUEUE_SET = "Teams queue %s now posts into channel %s"
LOG_OUTSIDER = "ignored a card action or card-thread message from another organisation (activity %s)"
LOG_UNKNOWN_VERB = "unknown Action.Execute verb %r on activity %s"
LOG_NOT_STORED = "could not store Teams activity %s (%s); answered 503 so the Bot Connector delivers it again"
LOG_STORED_TURN_FAILED = "Teams activity %s failed; it will be retried"
LOG_RECOVERED = "recovered %d stored Teams activities"

# --- what people read --------------------------------------------------------------------------
QUEUE_SET = "Done: handoff cards for the **{queue}** queue will be posted in this channel."
QUEUE_UNKNOWN = "I don't know a queue called **{queue}**. The rules file lists: {known}."
QUEUE_ONLY_IN_CHANNELS = "Queues live in team channels: run this command in the channel that should receive the cards."
INSTALLED = (
    "Hi, I'm Baton. I'll post handoff cards for the **{queue}** queue in this channel. "
    "To use another channel for a queue, @mention me there with: use this channel as the <queue> queue."
)
QUEUE_HELP = (
    "I post handoff cards in this channel. To answer a customer, reply in the card's thread and "
    "@mention me; start with **note:** to keep a message internal."
)
RESOLVED_THREAD = "Ticket {ticket} is resolved, so this message was not sent to the customer."
FEEDBACK_THANKS = "Thanks for the feedback!"
TALK_TO_PERSON = "(pressed: Talk to a person)"
OUTSIDER = "Only members of the support team's organisation can work with handoff cards and queues."
UNKNOWN_TICKET = "This card's ticket no longer exists."
UNKNOWN_ACTION = "That button is not known to this version of Baton."
