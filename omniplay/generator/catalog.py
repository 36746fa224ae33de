"""Static vocabulary of the simulated retailer: countries, cities, names, products, junk."""

from __future__ import annotations

import unicodedata

# Country codes in a fixed order; array code everywhere is the index into this tuple.
COUNTRIES = ("US", "CA", "GB", "IE", "DE", "FR", "NL", "ES")
COUNTRY_WEIGHTS = (0.34, 0.08, 0.16, 0.03, 0.13, 0.12, 0.06, 0.08)
CURRENCIES = ("USD", "CAD", "GBP", "EUR", "EUR", "EUR", "EUR", "EUR")
EU_COUNTRIES = ("GB", "IE", "DE", "FR", "NL", "ES")  # GDPR (and UK GDPR) applies

# (country, city, region, IANA timezone, latitude, longitude, weight within country)
CITIES = (
    ("US", "New York", "east", "America/New_York", 40.7128, -74.0060, 4),
    ("US", "Boston", "north", "America/New_York", 42.3601, -71.0589, 2),
    ("US", "Atlanta", "south", "America/New_York", 33.7490, -84.3880, 2),
    ("US", "Chicago", "north", "America/Chicago", 41.8781, -87.6298, 3),
    ("US", "Houston", "south", "America/Chicago", 29.7604, -95.3698, 2),
    ("US", "Denver", "west", "America/Denver", 39.7392, -104.9903, 1),
    ("US", "Phoenix", "west", "America/Phoenix", 33.4484, -112.0740, 1),
    ("US", "Los Angeles", "west", "America/Los_Angeles", 34.0522, -118.2437, 3),
    ("US", "Seattle", "west", "America/Los_Angeles", 47.6062, -122.3321, 2),
    ("CA", "Toronto", "east", "America/Toronto", 43.6532, -79.3832, 3),
    ("CA", "Montréal", "east", "America/Toronto", 45.5019, -73.5674, 2),
    ("CA", "Vancouver", "west", "America/Vancouver", 49.2827, -123.1207, 2),
    ("CA", "Calgary", "west", "America/Edmonton", 51.0447, -114.0719, 1),
    ("GB", "London", "south", "Europe/London", 51.5074, -0.1278, 5),
    ("GB", "Manchester", "north", "Europe/London", 53.4808, -2.2426, 2),
    ("GB", "Edinburgh", "north", "Europe/London", 55.9533, -3.1883, 1),
    ("GB", "Bristol", "west", "Europe/London", 51.4545, -2.5879, 1),
    ("IE", "Dublin", "east", "Europe/Dublin", 53.3498, -6.2603, 3),
    ("IE", "Cork", "south", "Europe/Dublin", 51.8985, -8.4756, 1),
    ("DE", "Berlin", "east", "Europe/Berlin", 52.5200, 13.4050, 3),
    ("DE", "Hamburg", "north", "Europe/Berlin", 53.5511, 9.9937, 2),
    ("DE", "München", "south", "Europe/Berlin", 48.1351, 11.5820, 2),
    ("DE", "Köln", "west", "Europe/Berlin", 50.9375, 6.9603, 2),
    ("FR", "Paris", "north", "Europe/Paris", 48.8566, 2.3522, 4),
    ("FR", "Lyon", "east", "Europe/Paris", 45.7640, 4.8357, 2),
    ("FR", "Marseille", "south", "Europe/Paris", 43.2965, 5.3698, 1),
    ("FR", "Bordeaux", "west", "Europe/Paris", 44.8378, -0.5792, 1),
    ("NL", "Amsterdam", "north", "Europe/Amsterdam", 52.3676, 4.9041, 3),
    ("NL", "Rotterdam", "west", "Europe/Amsterdam", 51.9244, 4.4777, 2),
    ("NL", "Eindhoven", "south", "Europe/Amsterdam", 51.4416, 5.4697, 1),
    ("ES", "Madrid", "east", "Europe/Madrid", 40.4168, -3.7038, 3),
    ("ES", "Barcelona", "north", "Europe/Madrid", 41.3874, 2.1686, 3),
    ("ES", "Sevilla", "south", "Europe/Madrid", 37.3891, -5.9845, 1),
    ("ES", "Valencia", "east", "Europe/Madrid", 39.4699, -0.3763, 1),
)

STORE_FORMATS = ("Flagship", "Centre", "Mall", "Outlet", "High Street", "Station")

# Names per country; a few are deliberately non-ASCII (staging must keep them intact).
FIRST_NAMES = {
    "US": ("James", "Mary", "Michael", "Patricia", "Robert", "Jennifer", "David", "Linda", "Chloé",
           "Daniel", "Emily", "José", "Ashley", "Kevin", "Zoë", "Brian", "Olivia", "Ethan", "Sofía", "Noah"),
    "CA": ("Liam", "Emma", "William", "Charlotte", "Benjamin", "Amélie", "Lucas", "Chloé", "Jacob",
           "Léa", "Nathan", "Ava", "Thomas", "Zoë", "Owen", "Maude"),
    "GB": ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Charlie", "Zoë",
           "Thomas", "Poppy", "Arthur", "Freya", "Leo", "Grace", "Łukasz", "Sophie"),
    "IE": ("Jack", "Emily", "Seán", "Aoife", "Conor", "Siobhán", "Darragh", "Niamh", "Cian",
           "Saoirse", "Oisín", "Róisín", "Fionn", "Clodagh"),
    "DE": ("Lukas", "Anna", "Jonas", "Lena", "Leon", "Marie", "Felix", "Sophie", "Jürgen",
           "Jörg", "Hannah", "Björn", "Søren", "Lea", "Maximilian", "Käthe", "Paul", "Mia"),
    "FR": ("Louis", "Emma", "Gabriel", "Léa", "Raphaël", "Chloé", "Hugo", "Manon", "Arthur",
           "Inès", "Jules", "Zoë", "Théo", "Camille", "Noémie", "Hélène"),
    "NL": ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Levi", "Tess", "Finn", "Anouk",
           "Bram", "Fleur", "Thijs", "Lotte", "Søren"),
    "ES": ("Hugo", "Lucía", "Martín", "Sofía", "Mateo", "María", "Leo", "Martina", "José",
           "Paula", "Álvaro", "Carmen", "Iñigo", "Nerea", "Íker", "Begoña"),
}
LAST_NAMES = {
    "US": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodríguez",
           "Martinez", "Hernández", "Lopez", "Wilson", "Anderson", "Taylor", "Nguyen", "Ōtsuka", "Kim"),
    "CA": ("Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Smith", "Brown", "Wilson", "Martin",
           "Lévesque", "MacDonald", "Li", "Ōtsuka", "Campbell"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
           "Wright", "Evans", "Thomas", "Kowalczyk", "Roberts", "Walker", "Hughes"),
    "IE": ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Smith", "O'Brien", "Byrne", "Ryan",
           "O'Connor", "Ó Súilleabháin", "McCarthy", "Doyle", "Ní Bhriain", "Lynch"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Krüger", "Weiß", "Jørgensen"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
           "Lefèvre", "Moreau", "Simon", "Laurent", "Girard", "Fontaine", "Chevalier"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen",
           "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos"),
    "ES": ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
           "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Núñez", "Muñoz", "Peña"),
}

EMAIL_DOMAINS = {
    "US": (("gmail.com", 5), ("yahoo.com", 2), ("outlook.com", 2), ("icloud.com", 2), ("aol.com", 1)),
    "CA": (("gmail.com", 5), ("hotmail.ca", 2), ("outlook.com", 1), ("videotron.ca", 1)),
    "GB": (("gmail.com", 4), ("hotmail.co.uk", 2), ("btinternet.com", 1), ("yahoo.co.uk", 1), ("icloud.com", 1)),
    "IE": (("gmail.com", 4), ("eircom.net", 1), ("hotmail.com", 2)),
    "DE": (("gmail.com", 3), ("gmx.de", 3), ("web.de", 3), ("t-online.de", 1)),
    "FR": (("gmail.com", 4), ("orange.fr", 2), ("free.fr", 2), ("laposte.net", 1), ("sfr.fr", 1)),
    "NL": (("gmail.com", 4), ("ziggo.nl", 2), ("kpnmail.nl", 1), ("hotmail.nl", 1)),
    "ES": (("gmail.com", 4), ("hotmail.es", 2), ("telefonica.net", 1), ("yahoo.es", 1)),
}

# Placeholder values people type when they do not want to give the real one.
JUNK_EMAILS = ("test@test.com", "noemail@example.com", "null", "unknown", "N/A", "", "none@none.com")
JUNK_EMAIL_WEIGHTS = (0.3, 0.3, 0.08, 0.08, 0.08, 0.08, 0.08)
JUNK_PHONES = ("0000000000", "1234567890", "null", "unknown", "N/A", "", "000-000-0000")
JUNK_PHONE_WEIGHTS = (0.3, 0.3, 0.08, 0.08, 0.08, 0.08, 0.08)
JUNK_IDS = ("", "null", "unknown", "n/a", "-1", "0", "NULL", "N/A")

CATEGORIES = (
    ("apparel", ("Tee", "Hoodie", "Jacket", "Jeans", "Dress", "Sweater", "Shirt", "Chinos")),
    ("footwear", ("Sneaker", "Boot", "Loafer", "Sandal", "Runner")),
    ("accessories", ("Backpack", "Belt", "Scarf", "Cap", "Wallet", "Sunglasses")),
    ("home", ("Candle", "Throw", "Mug", "Vase", "Cushion", "Lamp")),
    ("beauty", ("Serum", "Moisturiser", "Lip Balm", "Fragrance", "Cleanser")),
    ("outdoor", ("Tent", "Water Bottle", "Rain Shell", "Trail Pack", "Headlamp")),
)
BRANDS = ("Northwind", "Fjällbo", "Atelier Nord", "Coastline", "Maison Clair", "Urban Trail",
          "Kōbō", "Larkspur", "Ridge & Co", "Oakhaven")
ADJECTIVES = ("Classic", "Essential", "Organic", "Recycled", "Heritage", "Everyday", "Premium",
              "Lightweight", "Merino", "Vintage", "Studio", "Weekend")
COLOURS = ("Black", "Navy", "Sand", "Olive", "Ivory", "Rust", "Sage", "Charcoal")

SEARCH_TERMS = ("sneakers", "rain jacket", "gift for him", "gift for her", "candles", "merino",
                "sale", "running shoes", "backpack", "linen shirt", "face serum", "boots",
                "sunglasses", "hoodie", "tent", "weekend bag", "black jeans", "vase")
SITE = "https://shop.larkspur.example"
APP = "larkspur://app"
STATIC_PATHS = ("/", "/new-in", "/sale", "/stores", "/account", "/c/apparel", "/c/footwear",
                "/c/home", "/c/beauty", "/c/outdoor", "/lookbook", "/help/returns")
# pages of page_view events, then the fixed pages of login, checkout and purchase events
STATIC_PAGES = STATIC_PATHS + ("/account/login", "/checkout", "/checkout/complete")
SMS_STOP_REPLIES = ("STOP", "Stop", "stop", "STOP ", "UNSUBSCRIBE", "Stop please")
SMS_START_REPLIES = ("START", "Start", "UNSTOP")


def ascii_fold(text: str) -> str:
    """Lower-case ASCII form of a name for e-mail local parts (``Łukasz`` → ``lukasz``)."""
    special = {"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d"}
    text = "".join(special.get(ch, ch) for ch in text.lower())
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum()))
