"""Closed vocabularies of the catalogue (the values staff may write in the YAML files)."""

from __future__ import annotations

from enum import StrEnum


class Tipo(StrEnum):
    """A service delivered to people, or money (voucher, bonus, contribution)."""

    SERVIZIO = "servizio"
    CONTRIBUTO = "contributo"


class Provenienza(StrEnum):
    """Demo data, or data checked with the provider on `data_verifica`."""

    ESEMPIO = "esempio"
    VERIFICATO = "verificato"


class IseeTipo(StrEnum):
    """Kinds of ISEE certificate (DPCM 159/2013)."""

    ORDINARIO = "ordinario"
    MINORENNI = "minorenni"
    SOCIO_SANITARIO = "socio-sanitario"
    SOCIO_SANITARIO_RESIDENZIALE = "socio-sanitario residenziale"
    UNIVERSITARIO = "universitario"
    CORRENTE = "corrente"


class Certificazione(StrEnum):
    """Certifications a service may require."""

    INVALIDITA_CIVILE = "invalidita_civile"
    LEGGE_104 = "legge_104"
    LEGGE_104_GRAVE = "legge_104_grave"  # art. 3 comma 3
    INDENNITA_ACCOMPAGNAMENTO = "indennita_accompagnamento"
    NON_AUTOSUFFICIENZA = "non_autosufficienza"


class ModelloCosto(StrEnum):
    """How a service is paid for."""

    GRATUITO = "gratuito"
    TARIFFA = "tariffa"  # a fixed price: importo + unita
    TARIFFA_ISEE = "tariffa_isee"  # price scaled by ISEE; importo = the lowest band, if known
    COMPARTECIPAZIONE = "compartecipazione"  # user pays a share set by the comune
    RIMBORSO = "rimborso"  # percentuale of expenses refunded, up to tetto
    BUONO = "buono"  # a voucher worth importo (up to tetto per year)


class Unita(StrEnum):
    """The unit a price refers to."""

    ORA = "all'ora"
    GIORNO = "al giorno"
    SETTIMANA = "a settimana"
    MESE = "al mese"
    ANNO = "all'anno"
    PASTO = "a pasto"
    VIAGGIO = "a viaggio"
    SEDUTA = "a seduta"
    UNA_TANTUM = "una tantum"


class Canale(StrEnum):
    """Where or how a resident applies."""

    SPORTELLO = "sportello"
    SOCIAL_POINT = "social_point"
    SERVIZI_SOCIALI = "servizi_sociali"
    TELEFONO = "telefono"
    EMAIL = "email"
    ONLINE = "online"
    SCUOLA = "scuola"
    AZIENDA = "azienda"


class Giorno(StrEnum):
    """Weekdays, Italian abbreviations (Monday first)."""

    LUN = "lun"
    MAR = "mar"
    MER = "mer"
    GIO = "gio"
    VEN = "ven"
    SAB = "sab"
    DOM = "dom"


MESI: tuple[str, ...] = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)
