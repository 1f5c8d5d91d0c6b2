"""Questions about the comune's own offices (anagrafe, TARI, ZTL, rifiuti...): not the
network's services, but a resident asking the front desk deserves the right door."""

from __future__ import annotations

from flows.copy import group, say
from flows.lexicon import lexicon, says
from flows.replies import Reply
from flows.state import DialogueState
from flows.turn import NEED_PREFIX, FlowContext, OfficeInfo, Outcome, Turn


def public_topic(text: str | None) -> str | None:
    """The municipal topic a message is about, if any (lexicon.yml `public_services`)."""
    return next(
        (t for t in lexicon()["public_services"] if says(f"public_services.{t}", text)), None
    )


def is_public_question(_s: DialogueState, turn: Turn) -> bool:
    """A municipal question, unless the NLU heard one of the network's needs."""
    need = bool(turn.intent and turn.intent.startswith(NEED_PREFIX))
    return not need and public_topic(turn.text) is not None


def _line(office: OfficeInfo) -> str:
    if office.phone:
        return say("public_office_phone", nome=office.name, phone=office.phone, web=office.web)
    return say("public_office_line", nome=office.name, web=office.web)


def on_public_question(state: DialogueState, turn: Turn, ctx: FlowContext) -> Outcome:
    """The office of the resident's comune, or every comune's when it is not known."""
    topic = public_topic(turn.text) or ""
    argomento = group("public_topics").get(topic, topic)
    office = next((o for o in ctx.offices if o.comune == state.need.comune), None)
    if office is not None:
        text = say("public_office", argomento=argomento, ufficio=_line(office))
    else:
        lines = [say("public_office_any", argomento=argomento, territory=ctx.territory)]
        lines += [f"• {_line(o)}" for o in ctx.offices]
        text = "\n".join(lines)
    closing = Reply(say("public_office_social_point"), tuple(state.buttons))
    return Outcome(state.model_copy(update={"misses": 0}), (Reply(text), closing))
