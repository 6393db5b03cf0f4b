"""API shapes of the publishing features (the admin's view of webhook deliveries)."""

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DeliveryStatus = Literal["pending", "delivered", "failed"]


class DeliveryOut(BaseModel):
    """One webhook delivery: an event on its way to one URL, and how its attempts went."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Delivery id.")
    url: str = Field(description="The receiver (one of LEARNLOG_WEBHOOK_URLS).")
    status: DeliveryStatus = Field(
        description="pending (waiting for its next attempt), delivered (a 2xx answer) or "
        "failed (every attempt failed)."
    )
    attempts: int = Field(description="Attempts made so far.")
    message_id: str | None = Field(description="The `webhook-id` header it is sent with.")
    reason: str = Field(description="What the event announces: ingest or schedule.")
    since_version: int = Field(description="The change set starts after this content version.")
    version: int = Field(description="Content version the change reached.")
    created_at: dt.datetime = Field(description="When the delivery was queued (UTC).")
    next_attempt_at: dt.datetime | None = Field(
        description="When the next attempt is due (pending only)."
    )
    last_attempt_at: dt.datetime | None = Field(description="When it was last attempted.")
    last_status_code: int | None = Field(
        description="HTTP status of the last answer (null: no answer)."
    )
    last_error: str | None = Field(
        description="Why the last attempt failed (null after a success)."
    )
    delivered_at: dt.datetime | None = Field(description="When a receiver accepted it.")
