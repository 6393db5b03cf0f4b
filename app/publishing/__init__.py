"""Publishing as a site needs it: scheduled posts go live on time, webhooks announce changes.

`schedule` holds posts dated in the future back as drafts (at ingest) and makes them public
when due; `webhooks` keeps the queue of signed deliveries in the database; `loop` runs
both in every server of the app, one process per database at a time (`lock`).
"""
