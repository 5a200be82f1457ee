"""Sample profile data of the demo county (``referrals.demo``) and of the benchmark's generated
counties (``bench/_data.py``). Plain data: the generator's worker processes import it without Django."""

LANGUAGE_SETS = [
    [("Arabisch", "native"), ("Deutsch", "A2"), ("Englisch", "B1")],
    [("Ukrainisch", "native"), ("Russisch", "C1"), ("Deutsch", "A1")],
    [("Dari", "native"), ("Paschtu", "B2"), ("Deutsch", "B1")],
    [("Tigrinya", "native"), ("Arabisch", "A2"), ("Deutsch", "A2")],
]
QUALIFICATIONS = [
    {"kind": "vocational", "title": "Elektriker", "country": "Syrien", "recognition": "pending"},
    {"kind": "academic", "title": "Bachelor Pflegewissenschaft", "country": "Ukraine", "recognition": "partial"},
    {"kind": "school", "title": "Abitur", "country": "Afghanistan", "recognition": "full"},
    {"kind": "vocational", "title": "Schneiderin", "country": "Eritrea", "recognition": "not_started"},
]
