"""Tests for nlu.safety (emergency safety net) and nlu.text (normalisation)."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu.safety import (
    HELPLINES,
    KIND_PRIORITY,
    compile_pattern,
    emergency_kind,
    emergency_kinds,
    is_emergency,
    matching_rules,
)
from nlu.text import normalise, squeeze, words

EMERGENCIES = [
    # violence, threats, stalking
    ("mi picchia", "violenza"),
    ("mi ha colpito con la cintura", "violenza"),
    ("siamo in pericolo, venite", "violenza"),
    ("il mio ex vuole sfondare la porta", "violenza"),
    ("aiutatemi", "violenza"),
    ("mio padre è per terra e non si muove", "sanitaria"),
    ("non vorrei più esistere", "suicidio"),
    ("mio marito mi picchia", "violenza"),
    ("mi pikkia", "violenza"),
    ("MI PICCHIA!!!", "violenza"),
    ("mi pichia tutte le sere", "violenza"),
    ("mi ha picchiata ieri sera", "violenza"),
    ("mi mena", "violenza"),
    ("il mio compagno mi mette le mani addosso", "violenza"),
    ("mi ha messo le mani addosso", "violenza"),
    ("mi alza le mani quando beve", "violenza"),
    ("mi prende a schiaffi", "violenza"),
    ("ho paura di mio marito", "violenza"),
    ("ho paura di tornare a casa", "violenza"),
    ("mi ha minacciato", "violenza"),
    ("mi minaccia di portarmi via i bambini", "violenza"),
    ("mi vuole ammazzare", "violenza"),
    ("sono stata violentata", "violenza"),
    ("violenza", "violenza"),
    ("subisco violenza psicologica", "violenza"),
    ("abusi", "violenza"),
    ("mi perseguita", "violenza"),
    ("il mio ex mi segue sotto casa", "violenza"),
    ("mi aspetta sotto casa tutte le sere", "violenza"),
    ("stalking", "violenza"),
    ("la badante maltratta mia madre", "violenza"),
    ("maltrattamenti", "violenza"),
    ("centro antiviolenza orari", "violenza"),  # decided: show 1522 (module docstring)
    ("mi ha puntato un coltello", "violenza"),
    ("ho paura che mi trovi", "violenza"),
    ("ho paura ke ci faccia del male stanotte", "violenza"),
    # children
    ("lo zio mi tocca", "abuso_minori"),
    ("il patrigno mi tocca quando siamo soli", "abuso_minori"),
    ("mio papà mi picchia", "abuso_minori"),
    ("mio marito picchia i bambini", "abuso_minori"),
    ("mio figlio viene picchiato a scuola", "abuso_minori"),
    ("il maestro ha toccato mia figlia", "abuso_minori"),
    # suicidal thoughts
    ("voglio farla finita", "suicidio"),
    ("non voglio piu vivere", "suicidio"),
    ("non voglio più vivere", "suicidio"),
    ("nn voglio + vivere", "suicidio"),
    ("mi voglio ammazzare", "suicidio"),
    ("voglio morire", "suicidio"),
    ("mi ammazzo", "suicidio"),
    ("penso al suicidio", "suicidio"),
    ("mio figlio dice che vuole farla finita", "suicidio"),
    ("la vita non ha più senso", "suicidio"),
    ("mi butto giu dal ponte", "suicidio"),
    # medical
    ("sta male non respira", "sanitaria"),
    ("e svenuta", "sanitaria"),
    ("mia madre è svenuta", "sanitaria"),
    ("infarto", "sanitaria"),
    ("credo sia un ictus", "sanitaria"),
    ("ha appena avuto un infarto", "sanitaria"),
    ("mio padre sta avendo un infarto", "sanitaria"),
    ("chiamate l'ambulanza", "sanitaria"),
    ("mia mamma è caduta e non si riesce ad alzare", "sanitaria"),
    ("perde tanto sangue", "sanitaria"),
    ("il bimbo ha ingerito della candeggina", "sanitaria"),
    ("ha le convulsioni", "sanitaria"),
]

# Situations without the lexicon's words, caught by structure (the rule's name says which;
# None for the few that a plain `always` pattern covers).
SITUATIONS = [
    # a kill or harm verb and a person: threats
    (
        "mio marito ha detto che se lo lascio ammazza me e i bambini",
        "violenza",
        "minaccia_di_morte",
    ),
    ("dice ke se parlo amazza me", "violenza", "minaccia_di_morte"),
    (
        "lui continua a ripetere che mi ammazza se vado dai carabinieri",
        "violenza",
        "minaccia_di_morte",
    ),
    ("ha scritto che la fa fuori", "violenza", "minaccia_di_morte"),
    ("se parlo con qualcuno dice che mi fa del male", "violenza", "minaccia_di_fare_male"),
    ("il mio ex mi ha scritto che mi spacca la faccia", "violenza", "minaccia_di_fare_male"),
    # violence happening now, against anyone
    ("nel cortile un uomo sta prendendo a calci una donna", "violenza", "violenza_in_corso"),
    (
        "sulla telecamera ho visto la badante che dà uno schiaffo a mio padre",
        "violenza",
        "violenza_su_qualcuno",
    ),
    (
        "la badante strattona la nonna quando crede che nessuno la veda",
        "violenza",
        "violenza_su_qualcuno",
    ),
    (
        "dal balcone vedo il vicino che sta picchiando un ragazzino",
        "abuso_minori",
        "violenza_su_bambino",
    ),
    ("la vicina picchia il figlio piccolo tutte le sere", "abuso_minori", "violenza_su_bambino"),
    ("sento la vicina urlare lasciami, ti prego basta", "violenza", "urla_dai_vicini"),
    ("ho paura stasera torna ubriaco e spacca tutto", "violenza", "spacca_tutto"),
    # stalking, restraining orders
    ("il mio ex è sotto casa da un'ora e non se ne va", "violenza", "ex_che_perseguita"),
    (
        "da settimane il mio ex compagno si presenta sotto l'ufficio",
        "violenza",
        "ex_che_perseguita",
    ),
    ("il mio ex e appostato in macchina davanti al portone", "violenza", None),
    ("lui ha il divieto di avvicinamento ma stasera era qui sotto", "violenza", None),
    ("nonostante l'ordine restrittivo è tornato a cercarmi", "violenza", None),
    # a scream or a thud, then silence; collapse
    (
        "ero al telefono con mia madre, ho sentito un tonfo e poi più niente",
        "sanitaria",
        "urlo_poi_silenzio",
    ),
    ("parlavo con papà e di colpo ha smesso di rispondere", "sanitaria", None),
    ("mia zia che vive sola non apre la porta da ieri", "sanitaria", "non_risponde_da_ore"),
    ("mia madre si è accasciata in bagno", "sanitaria", None),
    ("il nonno ha la faccia storta e biascica", "sanitaria", "segni_di_ictus"),
    ("il bimbo è caduto dal fasciatoio e ora vomita", "sanitaria", "colpo_alla_testa"),
    # overdose
    ("mio figlio ha mandato giù un flacone intero di gocce per dormire", "sanitaria", "overdose"),
    ("la mia amica ha preso tutte le pastiglie di sua madre", "sanitaria", "overdose"),
    # self-harm, suicidal thoughts in other words
    ("mia figlia si taglia le braccia con la lametta", "suicidio", "autolesionismo"),
    ("mi brucio con l'accendino quando sto male", "suicidio", "autolesionismo"),
    ("sto sul balcone e voglio saltare", "suicidio", "vuole_saltare"),
    # 2026-12-03: more situations of each kind, typos and no accents
    ("dice ke mi amazza", "violenza", "minaccia_di_morte"),
    ("il mio compagno ha detto che stanotte mi fa la pelle", "violenza", "minaccia_di_morte"),
    ("a minacciato di farmi del male se lo denuncio", "violenza", None),
    ("mi ha minaciata di farmi male", "violenza", None),
    ("mio fratello sta picchiando mia madre adesso venite", "violenza", "violenza_in_corso"),
    ("la badante sta dando schiaffi alla nonna", "violenza", "violenza_in_corso"),
    ("qualcuno sta picchiando un anziano qui sotto", "violenza", "violenza_in_corso"),
    ("il mio ex e sotto casa ma non se ne va", "violenza", "ex_che_perseguita"),
    ("il mio ex e qui fuori ke suona il campanello da un ora", "violenza", "ex_che_perseguita"),
    (
        "nonostante la restrizione si e presentato sotto casa",
        "violenza",
        "ordine_del_giudice_violato",
    ),
    ("ha un ordine del giudice ma mi cerca ancora", "violenza", "ordine_del_giudice_violato"),
    ("sento la vicina urlare aiuto ma nessuno fa niente", "violenza", "urla_dai_vicini"),
    ("mi ha costretta ad avere rapporti", "violenza", None),
    ("mi ha obbligata a fare sesso", "violenza", None),
    ("il mio patrigno mi costringe a fare cose che non voglio", "abuso_minori", None),
    ("mio figlio di 3 anni e solo in casa da stamattina", "abuso_minori", "bambino_lasciato_solo"),
    ("c e un bimbo da solo in macchina chiusa al sole", "abuso_minori", "bambino_lasciato_solo"),
    (
        "la vicina ha lasciato i bambini soli a casa da due giorni",
        "abuso_minori",
        "bambino_lasciato_solo",
    ),
    ("ho sentito un tonfo in bagno e mio padre non risponde", "sanitaria", "urlo_poi_silenzio"),
    ("ho trovato la nonna a terra in cucina", "sanitaria", "trovato_a_terra"),
    ("l ho trovato per terra in corridoio, mio marito", "sanitaria", "trovato_a_terra"),
    ("mia madre e incosciente", "sanitaria", None),
    ("mio figlio e privo di sensi", "sanitaria", None),
    ("mia figlia ha ingoiato delle pastiglie della nonna", "sanitaria", "bambino_ha_ingerito"),
    ("il piccolo ha bevuto il detersivo dei piatti", "sanitaria", "bambino_ha_ingerito"),
    ("la bimba ha leccato una capsula del detersivo", "sanitaria", "bambino_ha_ingerito"),
    ("nn ce la faccio piu a vivere", "suicidio", None),
    ("sarebbe meglio se nn ci fossi", "suicidio", None),
    ("non vedo piu un motivo per andare avanti", "suicidio", None),
    ("mi voglio togliere di mezzo", "suicidio", None),
    ("che senso ha vivere cosi", "suicidio", None),
    # 2026-12-03 (wt16): danger now without "aiuto", in every style of writing
    ("qualcuno mi sta seguendo", "violenza", "seguita_per_strada"),
    ("MI STA SEGUENDO UNA MACCHINA DA MEZZ ORA", "violenza", "seguita_per_strada"),
    ("un tizio mi segue da quando sono scesa dal treno", "violenza", "seguita_per_strada"),
    ("mi ha chiuso dentro e si e preso le chiavi", "violenza", "chiusa_dentro"),
    ("lui mi ha tolto il telefono e non posso uscire", "violenza", "chiusa_dentro"),
    ("il mio ex mi scrive che sa dove abito", "violenza", "sa_dove_abito"),
    ("mi ha dato un pugno in faccia", "violenza", "colpo_ricevuto"),
    ("mi ha tirato un piatto in testa", "violenza", "colpo_ricevuto"),
    ("ieri sera gli ha dato due schiaffi davanti a tutti, a mio figlio", "violenza", None),
    ("io paura marito", "violenza", None),
    ("tanta paura del mio compagno", "violenza", None),
    ("mio marito picchia me", "violenza", None),
    ("lui dice mi ammazza", "violenza", "minaccia_di_morte"),
    ("marito dice uccide me", "violenza", "minaccia_di_morte"),
    ("mi ha drogata e abusato di me", "violenza", None),
    ("il mio ragazzo mi ha forzata", "violenza", None),
    # self-harm and suicidal talk said indirectly
    ("voglio solo dormire per sempre", "suicidio", None),
    ("vorrei sparire per sempre", "suicidio", None),
    ("voglio solo che finisca tutto", "suicidio", None),
    ("ho messo da parte le pastiglie per stanotte", "suicidio", "scorta_di_pastiglie"),
    ("sto accumulando i sonniferi di nascosto", "suicidio", "scorta_di_pastiglie"),
    ("mia figlia si chiude in bagno e si taglia", "suicidio", "autolesionismo"),
    ("meglio se non ci fossi", "suicidio", None),
    # a family member's collapse, a fall
    ("la nonna e caduta in bagno non riesce ad alzarsi", "sanitaria", None),
    ("mio marito caduto non parla", "sanitaria", "caduto_e_non_reagisce"),
    ("e scivolato sulle scale e non si muove", "sanitaria", "caduto_e_non_reagisce"),
    ("mio marito e diventato pallido e non parla", "sanitaria", "malore_improvviso"),
    (
        "mia madre all improvviso non mi riconosce piu e parla strano",
        "sanitaria",
        "malore_improvviso",
    ),
    ("mia mamma no respira bene", "sanitaria", None),
    ("il nonno respira in modo strano", "sanitaria", None),
    (
        "l anziano del piano di sopra non si vede da giorni e c e puzza",
        "sanitaria",
        "vicino_non_si_vede",
    ),
    # children alone, children who took someone's pills
    ("bambino solo in macchina parcheggio supermercato", "abuso_minori", "bambino_lasciato_solo"),
    ("mia figlia ha preso le pillole della nonna", "sanitaria", "bambino_ha_ingerito"),
    ("il bimbo a preso le gocce dal cassetto", "sanitaria", "bambino_ha_ingerito"),
    # short, elliptic, non-native and everyday kinds the net used to leave to the model
    ("l'istruttore la tocca, mia figlia ha 9 anni", "abuso_minori", "adulto_tocca_bambino"),
    ("uno sconosciuto chiede a mio figlio foto nude", "abuso_minori", "adulto_tocca_bambino"),
    ("lui mi violenta", "violenza", None),
    ("m'ha picchiata di nuovo", "violenza", None),
    ("lui chiude me in casa", "violenza", None),
    ("sorella picchiata dal marito", "violenza", None),
    ("sono ferita e mio marito e ancora in casa", "violenza", "ferita_e_lui_in_casa"),
    ("mi ha strangolato", "violenza", None),
    ("ho bisogno di aiuto subito", "violenza", None),
    ("mio nonno dice che si toglie la vita", "suicidio", None),
    ("ho scritto un biglietto di addio", "suicidio", None),
    ("la bimba e caduta dalla finestra", "sanitaria", "caduto_dall_alto"),
    ("correte mia madre sta malissimo", "sanitaria", "sta_male_urgente"),
    ("mio padre ha perso molto sangue", "sanitaria", None),
    ("non riesco a muovere la gamba e parlo male da un ora", "sanitaria", "segni_di_ictus"),
    # acute danger in everyday and assistant-command words
    ("chiama i pompieri", "sanitaria", None),
    ("ho bisogno di un ambulanza", "sanitaria", None),
    ("sto per svenire", "sanitaria", None),
    ("ho un malore aiutatemi", "sanitaria", None),
    ("NON RESPIRO", "sanitaria", "non_respiro"),
    ("mi si chiude la gola dopo la puntura dell ape", "sanitaria", None),
    ("qualcuno sta annegando al lago", "sanitaria", None),
    ("mia moglie sta partorendo in macchina", "sanitaria", None),
    ("siamo bloccati in ascensore", "sanitaria", None),
    ("c e un uomo a terra per strada", "sanitaria", None),
    ("il piccolo si e rovesciato addosso l acqua bollente", "sanitaria", None),
    ("incidente qui davanti, c e un ferito", "sanitaria", "incidente_con_feriti"),
    ("mio figlio ha la febbre a 41 e non risponde", "sanitaria", "febbre_alta_e_segni"),
    ("ci sono i ladri in casa", "violenza", None),
    ("mi stanno rapinando", "violenza", None),
    ("stanno entrando i ladri dalla finestra", "violenza", None),
    # a story with the danger now still fires
    ("dieci anni fa mi picchiava e adesso e tornato", "violenza", None),
    ("nel film di ieri c era mio marito che ora mi picchia", "violenza", None),
]

NOT_EMERGENCIES = [
    # alarm clocks and other assistant commands ("non si sveglia" is an emergency)
    "ferma la sveglia",
    "metti una sveglia alle 7",
    "cancella tutte le sveglie di domani",
    "posticipa la sveglia di dieci minuti",
    "la sveglia non suona",
    "ricordami di prendere le medicine alle 8",
    "imposta un timer di 10 minuti",
    "spegni le luci della cucina",
    "metti musica rilassante",
    # noise complaints, lost things, everyday trouble
    "i vicini fanno rumore tutta la notte, come posso fare un esposto?",
    "come segnalo i rumori molesti del bar sotto casa",
    "il cane dei vicini abbaia e non riesco a dormire",
    "il comune non risponde alle mail da giorni",
    "la linea è caduta, il wifi non funziona",
    "il mio gatto è sparito da ieri",
    "divieto di sosta in via roma",
    "la pianta sta morendo, come la curo?",
    "la batteria sta morendo",
    # films, sport, idioms
    "nel film il cattivo uccide tutti",
    "ammazza che freddo oggi",
    "questo traffico mi uccide",
    "mio figlio gioca a calcio e prende a calci il pallone",
    "mi fa male la schiena",
    "il fumo fa male alla salute",
    # the family's ordinary life
    "il mio ex passa a prendere i bambini sotto casa il sabato",
    "il mio ex marito non paga il mantenimento",
    "mia madre non risponde al telefono da ieri, è arrabbiata con me",
    "mio marito mi aspetta fuori dal lavoro",
    "mio figlio non mi lascia dormire la notte",
    "mio figlio di due anni rompe tutto",
    "il capo non mi lascia uscire prima",
    "quante pastiglie di tachipirina posso prendere al giorno?",
    "mi sono tagliata i capelli corti",
    "mi sono tagliato il dito tagliando il pane",
    "mio padre non muove più il braccio dopo l'ictus, cerco fisioterapia",
    "il sole picchia forte oggi",
    "mi tocca lavorare fino alle 18",
    "mi tocca andare a prenderlo alle 16",
    "mia madre ha avuto un ictus l'anno scorso, cerco una badante",
    "mio padre dopo l'infarto ha bisogno di assistenza a casa",
    "post ictus serve fisioterapia",
    "convegno sulla violenza di genere",
    "il corso sulla prevenzione della violenza",
    "mi ammazzo di lavoro",
    "ho paura per mio figlio che ha la febbre",
    "ho paura di non farcela con gli orari",
    "la psicologa mi segue da anni",
    "ho un'emergenza con la babysitter",
    "mi piace da morire",
    "sto morendo dal caldo",
    "ho tagliato il pane con il coltello",
    "abuso edilizio",
    "la sfortuna mi perseguita",
    "cerco un nido a Tradate per mio figlio di 18 mesi",
    # 2026-12-03: near-misses of the new rules
    "metti la sveglia alle sei e mezza",
    "non ho sentito la sveglia e sono arrivato tardi",
    "per ammazzare il tempo leggo",
    "come ammazzare il tempo in sala d attesa",
    "il capo mi ammazza di lavoro",
    "sti compiti mi ammazzano",
    "mi uccide questa attesa",
    "il vicino fa rumore tutte le sere con la musica alta",
    "i vicini urlano e litigano sempre, posso fare un reclamo?",
    "cade sempre la linea quando chiamo",
    "mi e caduta la linea mentre parlavo con voi",
    "ricordami di chiamare la mamma alle 5",
    "promemoria: medicine del nonno alle 20",
    "non risponde il telefono dell ufficio",
    "il numero dello sportello non risponde mai",
    "mia madre non risponde mai al telefono quando e al mercato",
    "ho trovato le chiavi a terra",
    "mia madre ha trovato il portafoglio per terra",
    "il bimbo e caduto dall altalena ma sta bene",
    "mio figlio sta da solo a casa un ora dopo scuola, cerco un doposcuola",
    "non voglio lasciare mia madre sola a casa tutto il giorno",
    "mi hanno costretto a fare gli straordinari",
    "mi obbligano a lavorare il sabato",
    "mi sento soffocare da tutti questi impegni",
    "ho preso le pastiglie per la pressione stamattina",
    "il bambino ha preso la medicina per la tosse",
    "quante gocce di sciroppo posso dare al bimbo?",
    "mio figlio e un incosciente, corre in motorino",
    "il mio ex vuole vedere i bambini nel weekend",
    "il mio ex e qui sotto per prendere i bambini",
    "ho fatto la denuncia per il furto della bici e sono tornato a casa",
    "le restrizioni della ztl valgono anche la domenica?",
    "non ha senso continuare con questo corso",
    "ho picchiato la testa contro lo sportello della macchina",
    "non ce la faccio piu a stare dietro a mia madre, serve una badante",
    "ho paura che mi venga negato il part time",
    "ho paura che mi licenzino se chiedo lo smart working",
    "questi turni mi uccidono",
    "orari del social point di Castiglione Olona",
    # 2026-12-03 (wt16): idioms, games, films, news, long ago, alarms and devices
    "il capo mi ammazza di lavoro",
    "muoio dal ridere",
    "sono morto di stanchezza",
    "stanco morto stasera",
    "l allarme non si spegne",
    "l'allarme della macchina suona da ore",
    "il sensore di fumo suona sempre",
    "mi uccide il mal di testa",
    "ti ammazzo di baci",
    "nel videogioco il mostro mi uccide sempre",
    "nel film lui la picchia",
    "ho sognato che mi picchiava",
    "al telegiornale un uomo ha ucciso la moglie",
    "dieci anni fa mio padre mi picchiava, posso avere supporto psicologico?",
    "quando ero piccola mia madre mi maltrattava, ci sono gruppi di ascolto?",
    "chi mi segue per la pratica dell isee?",
    "la dottoressa mi sta seguendo per la dieta",
    "il corriere e alla porta",
    "sono chiusa fuori casa senza chiavi",
    "il custode ci ha chiuso dentro la biblioteca per sbaglio",
    "il comune sa dove abito per mandarmi la tari?",
    "il bambino e caduto ma si e rialzato subito",
    "mia madre e caduta l anno scorso e non si alza piu dal letto, serve assistenza",
    "mi ha dato un calcio il cavallo al maneggio",
    "gli ha dato un calcio al pallone",
    "mia madre con l alzheimer non mi riconosce piu, cerco un centro diurno",
    "il vicino non si vede da giorni, sara in vacanza",
    "ho preparato le pastiglie della settimana nel portapillole",
    "voglio che finisca tutto entro venerdi",
    "ho paura del buio",
    "ho paura di volare",
    "mio figlio ha preso le pillole per l allergia",
    "ho bisogno di aiuto subito per la domanda del bonus",
    "mio padre sta male, mi serve urgente un permesso dal lavoro",
    "il vaso e caduto dal balcone del vicino",
    "tocca a lui portare i bambini a scuola",
    "la maestra la tocca sulla spalla per consolarla",
    "ieri ho visto un film sulla violenza domestica",
    "ho letto un libro sul suicidio di un poeta",
    "tra lavoro e figli non respiro, cerco un aiuto per le pulizie",
    "non respiro bene col naso chiuso",
    "ieri sono entrati i ladri in casa, come faccio la denuncia?",
    "ho avuto un incidente l anno scorso, come chiedo il rimborso?",
    "c e stato un terremoto in Turchia",
    "qual e il numero dei vigili del fuoco?",
    "al corso preparto spiegano cosa fare quando si rompono le acque",
    "l ascensore e bloccato da una settimana",
    "mia madre ha avuto un malore l anno scorso, cerco una badante",
    "mio marito e strano, all improvviso non mi risponde ai messaggi",
    "mi sento male quando mi alzo presto",
    "lui mi sta seguendo per la tesi",
    "mio marito ha preso il telefono per chiamarvi",
    "mio figlio sa dove abito, lui viene domenica",
    "la domanda e caduta nel vuoto, il comune non risponde",
    "incidente grave sulla statale, ci sono deviazioni?",
    "ciao",
    "",
]


@pytest.mark.parametrize(("text", "kind"), EMERGENCIES)
def test_emergencies_are_caught(text: str, kind: str) -> None:
    assert is_emergency(text)
    assert emergency_kind(text) == kind


def test_explanations_agree_with_the_decision() -> None:
    for text, _, _ in SITUATIONS:
        assert emergency_kinds(text) == tuple(dict.fromkeys(k for k, _ in matching_rules(text)))
    assert matching_rules("ferma la sveglia") == []


@pytest.mark.parametrize(("text", "kind", "rule"), SITUATIONS)
def test_situations_are_caught_by_structure(text: str, kind: str, rule: str | None) -> None:
    assert emergency_kind(text) == kind
    if rule is not None:  # None: a plain `always` pattern of the kind
        assert rule in {name for _, name in matching_rules(text)}


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_not_emergencies(text: str) -> None:
    assert not is_emergency(text)
    assert emergency_kind(text) is None


# 2026-12-03 (H4): frames widened for resident-style emergencies, by kind. Sentences written
# for these tests, not taken from nlu/heldout/emergenze_residenti.jsonl or any evaluation set.
WIDER_FRAMES = {
    "minaccia": [
        ("se lo denuncio dice che mi spacca la testa", "violenza", "minaccia_di_fare_male"),
        ("ha detto che brucia la casa con noi dentro", "violenza", "minaccia_di_fare_male"),
        ("mi ha scritto sei morta appena esci", "violenza", "minaccia_riferita"),
        ("mio fratello ha minacciato la nonna col taglierino", "violenza", None),
        ("lui mi aspetta in garage col coltello", "violenza", "minaccia_con_arma"),
        ("mio marito ha detto che ci fa saltare in aria", "violenza", "minaccia_di_fare_male"),
    ],
    "violenza_in_corso": [
        ("fuori dal bar stanno riempiendo di botte un ragazzo", "violenza", "violenza_in_corso"),
        (
            "il figlio della vicina la sbatte contro il muro ogni sera",
            "violenza",
            "violenza_su_qualcuno",
        ),
        ("l infermiere ha spinto mia madre giu dalla sedia", "violenza", "spinta_violenta"),
        ("lo zio colpisce la nonna con il bastone", "violenza", "colpisce_con_oggetto"),
        ("sul bus un uomo mi palpeggia", "violenza", "palpeggia"),
        ("e ubriaco e sta sfasciando tutto", "violenza", "spacca_tutto"),
        ("mi ha dato na botta sulla schiena col mestolo", "violenza", "colpo_ricevuto"),
    ],
    "stalking": [
        ("il mio ex sta sotto le mie finestre ogni sera", "violenza", "ex_che_perseguita"),
        (
            "ho sporto denuncia ma lui e tornato davanti al lavoro",
            "violenza",
            "ordine_del_giudice_violato",
        ),
        (
            "un uomo mi segue fino alla macchina tutte le sere da settimane",
            "violenza",
            "seguita_per_strada",
        ),
        (
            "lui mi ha installato un localizzatore sulla macchina",
            "violenza",
            "controllata_col_telefono",
        ),
        (
            "tutte le notti citofonano alle tre e non parla nessuno, ho paura",
            "violenza",
            "molestie_notturne",
        ),
        ("non potrebbe avvicinarsi a meno di 300 metri ma e al parco", "violenza", None),
    ],
    "collasso": [
        (
            "parlavo con mio nonno e ha fatto un verso strano, poi silenzio",
            "sanitaria",
            "urlo_poi_silenzio",
        ),
        ("la signora del primo piano e stesa sul pavimento", "sanitaria", None),
        ("mia madre e sulla sedia a rotelle e non si muove", "sanitaria", "persona_immobile"),
    ],
    "overdose": [
        ("mio figlio ha preso 15 pastiglie di ansiolitico", "sanitaria", "overdose"),
        ("la nonna ha preso due volte le gocce del cuore", "sanitaria", "overdose"),
        ("ha finito tutta la scatola di sonniferi", "sanitaria", "overdose"),
    ],
    "autolesionismo": [
        ("mi sono ancora graffiata le cosce finche sanguinavano", "suicidio", None),
        (
            "ho lasciato un biglietto per mio figlio, non voglio piu stare al mondo",
            "suicidio",
            None,
        ),
        ("mio padre dice che non vuole piu svegliarsi", "suicidio", None),
    ],
    "abuso": [
        ("lo zio mi fa fare cose brutte quando siamo soli", "abuso_minori", None),
        (
            "l allenatore chiede a mia figlia foto di lei nuda",
            "abuso_minori",
            "adulto_tocca_bambino",
        ),
    ],
}

WIDER_NEAR_MISSES = [
    "questo mal di schiena mi spacca in due",
    "sei morta dal sonno stamattina?",
    "mia sorella mi scrive sei morta? non ti fai sentire da una settimana",
    "il papa spinge il passeggino giu per la rampa",
    "ha colpito mio figlio la febbre alta, servono i centri estivi piu avanti",
    "al mercato la signora palpeggia la frutta",
    "dare pugni al sacco in palestra mi rilassa",
    "il corriere suona di notte? no, di solito di giorno",
    "ogni notte il cane abbaia e non dice niente nessuno in condominio",
    "ho messo un app sul telefono per la spesa",
    "sto scrivendo una relazione sul codice rosso per il master",
    "vorrei fare volontariato in un centro antiviolenza",
    "il centro antiviolenza assume psicologhe? mando il curriculum",
    "a minecraft mio figlio urla ti uccido al cugino",
    "ho preso 10 giorni di ferie ad agosto",
    "ho scritto una lettera al sindaco per la strada rotta",
    "mi sono stesa sul letto per riposare",
    "ho fatto denuncia per il furto della bici e poi e tornata",
    "il mio ex passa a prendere i bambini alle 5 e li riporta sotto casa",
    "mio figlio non si muove dal divano tutto il giorno",
]


@pytest.mark.parametrize(
    ("text", "kind", "rule"),
    [case for cases in WIDER_FRAMES.values() for case in cases],
    ids=[f"{k}-{i}" for k, cases in WIDER_FRAMES.items() for i in range(len(cases))],
)
def test_wider_frames_catch_each_kind(text: str, kind: str, rule: str | None) -> None:
    assert emergency_kind(text) == kind
    if rule is not None:
        assert rule in {name for _, name in matching_rules(text)}


@pytest.mark.parametrize("text", WIDER_NEAR_MISSES)
def test_wider_frames_leave_near_misses_alone(text: str) -> None:
    assert not is_emergency(text), matching_rules(text)


# Issue 16 (H6): the writer feels ill now and asks whom to call or what to do (112),
# in residents' spelling; sentences written for these tests, not from any evaluation set.
MALORE_NOW = [
    "mi sento male chi chiamo",
    "sto malissimo, cosa devo fare??",
    "non mi sento bene per nulla, che faccio",
    "nn mi sento bn ke devo fare",
    "sto mlae, a chi telefono",
    "scusa ma sto davvero male, che numero devo fare",
    "io sto male tanto cosa fare",
    "mi sento male mi gira tutto chiamo qualcuno?",
    "ho un dolore fortissimo alla schiena e non riesco a muovermi, cosa faccio",
    "mi gira la testa e sono sola, chi devo avvisare",
    "sto male, chiamate qualcuno",
    "mi sento male adesso, vado al pronto soccorso o chiamo?",
]

# The same words without an illness happening now: emotional or long-standing malaise
# (bisogno_benessere), the past, a hypothetical, paperwork, laughter, other people's plans.
MALORE_NOT_NOW = [
    "sto male per la fine del mio matrimonio, con chi posso parlarne?",
    "da mesi non sto bene con me stessa, c e uno psicologo?",
    "mi sento male per mia figlia che non mi parla piu, cosa posso fare?",
    "sto male da quando e morto il papa, vorrei sfogarmi con qualcuno",
    "mi sento triste e sola, a chi mi rivolgo?",
    "ieri sera stavo male, oggi devo avvisare la scuola?",
    "la settimana scorsa sono stata male, chi mi fa il certificato?",
    "se mi sento male di notte chi devo chiamare?",
    "quando sto male il sabato cosa faccio, la guardia medica?",
    "non sto bene al lavoro, chi devo sentire per cambiare turno?",
    "sto male dal ridere, che faccio",
    "non sto bene con questo taglio di capelli, che faccio?",
    "sto bene grazie, e tu cosa fai?",
]

# Net false alarms found on near-misses: insects "massacrano", an alarm clock "mi ammazza",
# an old fall told as a story.
NET_NEAR_MISSES_H6 = [
    "le vespe ci stanno massacrando in giardino",
    "tanti anni fa sono caduto dal balcone, adesso ho ancora male alla schiena",
    "ci sono le mosche in cucina, come le ammazzo senza veleno?",
    "quella sveglia alle sei mi ammazza",
]


@pytest.mark.parametrize("text", MALORE_NOW)
def test_first_person_malaise_asking_what_to_do_is_sanitaria(text: str) -> None:
    assert emergency_kind(text) == "sanitaria"
    assert ("sanitaria", "malore_in_prima_persona") in matching_rules(text)


@pytest.mark.parametrize("text", MALORE_NOT_NOW)
def test_malaise_that_is_emotional_past_or_hypothetical_does_not_fire(text: str) -> None:
    assert not is_emergency(text), matching_rules(text)


@pytest.mark.parametrize("text", NET_NEAR_MISSES_H6)
def test_insects_alarm_clocks_and_old_falls_do_not_fire(text: str) -> None:
    assert not is_emergency(text), matching_rules(text)


def test_several_kinds_most_specific_first() -> None:
    text = "mio marito mi picchia e voglio farla finita"
    assert emergency_kinds(text) == ("suicidio", "violenza")
    assert emergency_kind(text) == "suicidio"


def test_stories_fire_only_when_the_danger_is_now() -> None:
    story = "nel film lui la picchia"
    assert emergency_kinds(story) == () and matching_rules(story) == []
    assert emergency_kind("nel film lui la picchia, aiuto, ora mio marito mi picchia") == "violenza"


# Long letters (issue 16, 2026-12-04): a denied danger, a situation's parts far apart and an
# amount far from the medicine are not emergencies; the same words close together, or a
# fear rather than a denial, still are. Sentences written for these tests.
LETTER_NOT_EMERGENCIES = [
    "Buongiorno, sono una mamma di tre bambini e sono proprio a pezzi. Non sono in pericolo e"
    " non voglio farmi del male, ma piango spesso e vorrei un aiuto psicologico per mamme.",
    "nn sono in pericolo tranquilli, volevo solo sapere se ce uno sportello di ascolto",
    "Non ho pensieri suicidi, sono solo stanca: esiste un gruppo di mutuo aiuto a Tradate?",
    "Scrivo per mio papa che ha 88 anni e vive solo: va tutto bene dice lui, pero le pastiglie"
    " le prende un po a caso e in frigo non ce niente. Esiste un aiuto a domicilio?",
    "Ciao, qualcuno di voi ha gia fatto la domanda per il nido comunale? Io rientro al lavoro"
    " a marzo dopo la maternita, mio marito e sempre via per lavoro e i nonni abitano lontano,"
    " e non so proprio da dove partire con tutto quello che mi aspetta.",
]
LETTER_EMERGENCIES = [
    ("non voglio morire, lui e ubriaco e gira per casa col coltello", "violenza"),
    ("non sono in pericolo io ma mia sorella si, il suo ex la aspetta sotto casa", "violenza"),
    ("non voglio piu vivere", "suicidio"),
    (
        "Vi scrivo perche non so a chi rivolgermi. Ci siamo lasciati a giugno, dopo anni"
        " difficili. Da una settimana lo trovo sotto casa ogni sera e ho paura.",
        "violenza",
    ),
    ("mio figlio ha preso non so quante pastiglie della nonna", "sanitaria"),
]


@pytest.mark.parametrize("text", LETTER_NOT_EMERGENCIES)
def test_letters_denials_and_distant_words_are_not_emergencies(text: str) -> None:
    assert not is_emergency(text), matching_rules(text)


@pytest.mark.parametrize(("text", "kind"), LETTER_EMERGENCIES)
def test_letters_fears_and_close_words_are_emergencies(text: str, kind: str) -> None:
    assert kind in emergency_kinds(text), matching_rules(text)


def test_every_kind_has_helplines_with_112() -> None:
    assert set(HELPLINES) == set(KIND_PRIORITY)
    for lines in HELPLINES.values():
        assert "112" in {number for number, _ in lines}


def test_lexicon_compiles_without_escapes() -> None:
    source = resources.files("nlu") / "resources" / "emergenza.yml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    macros = data.pop("macros")
    frames = data.pop("frames")
    assert set(frames) == {"story", "now", "denial"}
    for pattern in (*frames["story"], *frames["now"], *frames["denial"]):
        compile_pattern(pattern, macros)
    assert set(data) == set(KIND_PRIORITY)
    for entry in data.values():
        assert set(entry) <= {"always", "topic", "unless", "situations"}
        for part in ("always", "topic", "unless"):
            for pattern in entry.get(part) or ():
                compile_pattern(pattern, macros)
        for situation in entry.get("situations") or ():
            assert set(situation) <= {"name", "all", "unless"} and situation["all"]
            for pattern in (*situation["all"], *(situation.get("unless") or ())):
                compile_pattern(pattern, macros)


# Squeezing turns double letters into single ones: a word of the lexicon must not become
# one of these everyday words ("mma" -> "ma" once silenced every rule with a {finzione}).
_EVERYDAY = {"ma", "sono", "non", "se", "che", "di", "da", "per", "con", "mi", "ti", "ci", "e"}


def test_lexicon_words_do_not_squeeze_into_everyday_words() -> None:
    text = (resources.files("nlu") / "resources" / "emergenza.yml").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for word in set(re.findall(r"[a-z]+(?![a-z\[{])", body)):  # stems like "nonn[ai]" end later
        assert word in _EVERYDAY or squeeze(word) not in _EVERYDAY, word


def test_unknown_macros_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown macro"):
        compile_pattern("{persona} picchia")
    assert compile_pattern("{p} picchia", {"p": "lui|lei"}).search("lei pichia")


def test_escapes_are_refused() -> None:
    with pytest.raises(ValueError, match="backslash"):
        compile_pattern(r"\bpicchia")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_safety_never_raises(text: str) -> None:
    kind = emergency_kind(text)
    assert kind is None or kind in KIND_PRIORITY
    assert is_emergency(text) == (kind is not None)
    assert emergency_kinds(text) == tuple(dict.fromkeys(k for k, _ in matching_rules(text)))


# --- nlu.text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mi PIKKIA!!!", "mi picchia"),
        ("aiutoooo", "aiuto"),
        ("ke fai", "che fai"),
        ("nn voglio più vivere", "non voglio piu vivere"),
        ("x me", "per me"),
        ("è svenuta", "e svenuta"),
        ("l'ambulanza", "l ambulanza"),
        ("Venegono Sup.", "venegono sup"),
        ("3,5 anni", "3.5 anni"),
        ("17enne", "17 enne"),
        ("mammà", "mamma"),
        ("ok, smart working nel weekend", "ok smart working nel weekend"),
        ("stalking", "stalking"),
        ("  spazi   multipli\n", "spazi multipli"),
        ("ﬁglio", "figlio"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_squeeze_collapses_double_letters_only() -> None:
    assert squeeze("picchia mamma 1100") == "pichia mama 1100"


def test_words_keep_original_spans() -> None:
    text = "Abito a Tradà!"
    assert [(w.norm, text[w.start : w.end]) for w in words(text)] == [
        ("abito", "Abito"),
        ("a", "a"),
        ("trada", "Tradà"),
    ]


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert squeeze(squeeze(once)) == squeeze(once)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aàeèiìoòuùckxnhs ' .,!0123456789KXE", max_size=40))
def test_normalise_is_idempotent_on_sms_spelling(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
