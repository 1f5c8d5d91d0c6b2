"""Inputs and outputs of one conversation step (pure data, no I/O)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from catalog.matching import CatalogIndex
from flows.lexicon import is_only
from flows.replies import Reply
from flows.state import DialogueState
from nlu.comuni import Gazetteer
from nlu.types import ParseResult, ParseStatus

# Button payloads that stand for an intent, so that tapping and typing take one path.
PAYLOAD_INTENTS = {
    "menu:operator": "richiesta_operatore",
    "menu:done": "congedo",
    "menu:hours": "orari_sedi",
    "menu:stop": "disiscrizione",
    "menu:erase": "cancellazione_dati",
    "menu:help": "info_assistente",
    "yes": "affermazione",
    "no": "negazione",
    "consent:yes": "affermazione",
    "consent:no": "negazione",
}
NEED_PREFIX = "bisogno_"

# Commands work on every channel and never go to the NLU (opt-out words above all).
COMMANDS = {
    "/start": "menu:restart",
    "ricomincia": "menu:restart",
    "/ricomincia": "menu:restart",
    "/operatore": "menu:operator",
    "/stop": "menu:stop",
    "stop": "menu:stop",
    "basta": "menu:stop",
    "disiscrivimi": "menu:stop",
    "/cancella": "menu:erase",
    "/aiuto": "menu:help",
}


def command_payload(text: str | None) -> str | None:
    """The payload of a command typed as text ("STOP", "/start", "Basta!"), if it is one."""
    if not text:
        return None
    word = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    word = word.strip().strip(".!").lower()
    if word.startswith("/"):  # Telegram: "/start@NomeBot", "/start <deep-link parameter>"
        word = word.split()[0].split("@")[0] if word.split() else word
    if is_only("restart", word):  # "ricominciamo da capo"
        return "menu:restart"
    return COMMANDS.get(word)


@dataclass(frozen=True)
class Change:
    """A slot a message set; `old` is the value it replaced (None or empty: it was unknown)."""

    slot: str  # comune | eta | focus | familiare | mesi | orario | vincoli | skip
    old: object
    new: object

    @property
    def corrected(self) -> bool:
        return self.old not in (None, [], (), False) and self.slot in CORRECTABLE


CORRECTABLE = frozenset({"comune", "eta", "familiare", "mesi", "orario"})


@dataclass(frozen=True)
class Turn:
    """One message from the resident: typed text (with its parse) or a tapped button."""

    text: str | None = None
    payload: str | None = None
    parse: ParseResult | None = None
    has_media: bool = False  # a photo, voice note, sticker... (reaches the operator, if any)
    changes: tuple[Change, ...] = ()  # the slots this message set (filled in by the flow)

    @property
    def intent(self) -> str | None:
        """The intent to act on: from the button, or from a confident parse."""
        if self.payload:
            if self.payload.startswith("cat:"):
                return NEED_PREFIX + self.payload[4:]
            return PAYLOAD_INTENTS.get(self.payload)
        if self.parse and self.parse.status is ParseStatus.OK:
            return self.parse.intent
        return None

    @property
    def degraded(self) -> bool:
        """True when the NLU could not be reached for this typed message."""
        return self.parse is not None and self.parse.status is ParseStatus.UNAVAILABLE

    def payload_value(self, prefix: str) -> str | None:
        """`Tradate` for payload `comune:Tradate` when prefix is `comune`."""
        if self.payload and self.payload.startswith(prefix + ":"):
            return self.payload[len(prefix) + 1 :]
        return None


@dataclass(frozen=True)
class SocialPointInfo:
    """What the flow tells residents about a Social Point."""

    id: str
    name: str
    address: str
    phone: str
    hours: dict[str, tuple[str, ...]]
    comuni: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfficeInfo:
    """A comune's own offices, for the questions the network does not answer."""

    comune: str
    name: str
    web: str
    phone: str | None = None


@dataclass(frozen=True)
class FlowContext:
    """The world the flow answers from (read-only, built once by the app)."""

    catalog: CatalogIndex
    territory: str
    comuni: tuple[str, ...]
    places: Gazetteer  # how the territory's residents name places
    social_points: tuple[SocialPointInfo, ...]
    privacy_url: str
    now: datetime  # the territory's local time
    offices: tuple[OfficeInfo, ...] = ()

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass(frozen=True)
class NeedRecorded:
    """A need the interview identified (becomes an anonymous observatory event)."""

    categoria: str
    comune: str | None
    eta: tuple[float, ...]
    familiare: str | None
    matched: bool


@dataclass(frozen=True)
class HandoffRequested:
    """The conversation goes to the queue of a Social Point's operators."""

    reason: str  # richiesta | non_capito | valutazione | nessun_servizio | emergenza
    social_point: str  # SocialPointInfo.id
    priority: bool = False
    open_now: bool = True


@dataclass(frozen=True)
class FirstMessageKept:
    """Consent given: the message written before it goes into the transcript, first."""

    text: str


@dataclass(frozen=True)
class HandoffCancelled:
    """The resident left the queue (e.g. typed /start while waiting)."""


@dataclass(frozen=True)
class CallbackRequested:
    """Outside opening hours the resident asked to be called back."""

    phone: str


@dataclass(frozen=True)
class EraseRequested:
    """The resident confirmed: delete their personal data and messages."""


@dataclass(frozen=True)
class UnsubscribeRequested:
    """The resident does not want updates any more."""


@dataclass(frozen=True)
class SubscribeRequested:
    """The resident opted in to updates on these topics (need categories or `novita`)."""

    topics: tuple[str, ...]
    comune: str | None = None
    evidence: str | None = None  # the button or words that gave consent (for the ledger)


@dataclass(frozen=True)
class Rated:
    """Satisfaction (1-5) after a conversation with an operator."""

    score: int


Event = (
    NeedRecorded
    | FirstMessageKept
    | HandoffRequested
    | HandoffCancelled
    | CallbackRequested
    | EraseRequested
    | UnsubscribeRequested
    | SubscribeRequested
    | Rated
)


@dataclass(frozen=True)
class Outcome:
    """The result of one step: the new state, what to say, what happened."""

    state: DialogueState
    replies: tuple[Reply, ...]
    events: tuple[Event, ...] = field(default=())
