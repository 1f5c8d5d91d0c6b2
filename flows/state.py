"""The persisted state of one conversation: a named step plus what the interview learnt."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows.replies import Button


class Step(StrEnum):
    """Named states of the conversation."""

    START = "start"  # nothing said yet
    CONSENT = "consent"  # welcome shown, waiting for yes/no
    ASK_CATEGORY = "ask_category"
    ASK_COMUNE = "ask_comune"
    ASK_AGE = "ask_age"
    SUGGESTED = "suggested"  # services shown, follow-up buttons offered
    OFFER_OPERATOR = "offer_operator"  # asked "vuoi parlare con una persona?"
    HUMAN = "human"  # queued for or held by an operator: the bot stays silent
    OFFER_CALLBACK = "offer_callback"  # Social Point closed: "vuoi essere richiamato?"
    ASK_PHONE = "ask_phone"
    CONFIRM_ERASE = "confirm_erase"
    ASK_RATING = "ask_rating"  # operator closed: satisfaction 1-5


class Need(BaseModel):
    """The need being explored. Personal data: only kept with consent."""

    model_config = ConfigDict(extra="ignore")

    categoria: str | None = None
    comune: str | None = None
    eta: list[float] = Field(default_factory=list)  # every age the resident gave
    focus: list[float] = Field(default_factory=list)  # the ages this search is for (empty: all)
    eta_unknown: bool = False  # the resident said "non lo so": don't ask again
    comune_unknown: bool = False  # same for the comune: search the whole territory
    familiare: str | None = None
    mesi: list[int] = Field(default_factory=list)  # months the service is needed in (1-12)
    orario: str | None = None  # "18:30": needed until
    vincoli: list[str] = Field(default_factory=list)  # turni | mattina_presto | sabato | sera

    @property
    def ages(self) -> list[float]:
        """The ages the current search is for."""
        return self.focus or self.eta


class Intake(BaseModel):
    """What the first message said, kept (encrypted at rest) only until the consent answer."""

    model_config = ConfigDict(extra="ignore")

    text: str
    at: datetime
    need: Need = Field(default_factory=Need)
    queued: list[str] = Field(default_factory=list)
    operator: bool = False  # the first message asked for a person


class DialogueState(BaseModel):
    """Everything the flow needs to carry from one message to the next."""

    model_config = ConfigDict(extra="ignore")

    step: Step = Step.START
    consent: bool | None = None
    need: Need = Field(default_factory=Need)
    queued: list[str] = Field(default_factory=list)  # more categories from one message
    shown: list[str] = Field(default_factory=list)  # service ids already suggested
    misses: int = 0  # consecutive messages not understood
    offer_reason: str | None = None  # why an operator is being offered (handoff reason)
    buttons: list[Button] = Field(default_factory=list)  # last offered, for "1"/"2" answers
    question: str | None = None  # the pending question, asked again after a digression
    intake: Intake | None = None  # before consent only
    page: list[str] = Field(default_factory=list)  # service ids of the last page shown
    focus: str | None = None  # the service the resident last asked about

    @classmethod
    def load(cls, data: dict[str, object] | None) -> DialogueState:
        """Restores a saved state; a corrupt or outdated one restarts the conversation."""
        if not data:
            return cls()
        try:
            return cls.model_validate(data)
        except ValidationError:
            return cls()

    def dump(self) -> dict[str, object]:
        """JSON-ready form for the database."""
        return self.model_dump(mode="json")

    def without_personal_data(self) -> DialogueState:
        """The state to store without consent: the need's category and comune, nothing else.

        The comune is kept because it is as coarse as the anonymous observatory's data (and
        asking it twice would be absurd); ages, family members and messages are not. The
        intake (the first message, before the consent answer) stays: the app stores it
        encrypted and the flow drops it at the answer or after INTAKE_TTL.
        """
        need = Need(categoria=self.need.categoria, comune=self.need.comune)
        return self.model_copy(update={"need": need})
