"""Word lists the demo seed draws names and ticket subjects from (data only).

Small and built in, so the seed needs no fake-data library: people are
``FIRST_NAMES`` x ``LAST_NAMES``, companies follow ``builders.company_name``'s
patterns over ``LAST_NAMES``, ``COMPANY_WORDS``, ``COMPANY_NOUNS`` and
``COMPANY_SUFFIXES``.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Aaron", "Abigail", "Adam", "Aisha", "Alan", "Alex", "Alice", "Amanda", "Amy", "Andrea",
    "Andrew", "Angela", "Anna", "Anthony", "Ashley", "Ben", "Brandon", "Brian", "Carla", "Carlos",
    "Catherine", "Chloe", "Chris", "Claire", "Daniel", "David", "Deborah", "Diana", "Diego", "Elena",
    "Elijah", "Emily", "Emma", "Eric", "Ethan", "Fatima", "Felix", "Fiona", "Gabriel", "Grace",
    "Hannah", "Hassan", "Helen", "Ian", "Isabel", "Jack", "Jacob", "James", "Jasmine", "Jason",
    "Jennifer", "Jessica", "Joan", "John", "Jordan", "Joseph", "Julia", "Karen", "Kevin", "Laura",
    "Leah", "Linda", "Lucas", "Lucy", "Luis", "Maria", "Mark", "Martha", "Matthew", "Maya",
    "Megan", "Michael", "Michelle", "Mohammed", "Natalie", "Nathan", "Nicole", "Noah", "Olivia", "Omar",
    "Patrick", "Paul", "Rachel", "Rebecca", "Richard", "Robert", "Ryan", "Samantha", "Samuel", "Sara",
    "Scott", "Sean", "Sophie", "Stephen", "Steven", "Susan", "Thomas", "Victoria", "William", "Yusuf",
)  # fmt: skip

LAST_NAMES = (
    "Adams", "Allen", "Alvarez", "Anderson", "Bailey", "Baker", "Barnes", "Bell", "Bennett", "Brooks",
    "Brown", "Butler", "Campbell", "Carter", "Castillo", "Chen", "Clark", "Cole", "Collins", "Cook",
    "Cooper", "Cox", "Cruz", "Davis", "Diaz", "Edwards", "Evans", "Fischer", "Fisher", "Flores",
    "Foster", "Garcia", "Gomez", "Gonzalez", "Gray", "Green", "Hall", "Harris", "Hayes", "Hill",
    "Howard", "Hughes", "Jackson", "James", "Jenkins", "Johnson", "Jones", "Kelly", "Khan", "Kim",
    "King", "Lee", "Lewis", "Lopez", "Martin", "Martinez", "Meyer", "Miller", "Mitchell", "Moore",
    "Morgan", "Morris", "Murphy", "Myers", "Nelson", "Nguyen", "Novak", "Ortiz", "Park", "Parker",
    "Patel", "Perez", "Peterson", "Phillips", "Price", "Ramirez", "Reed", "Reyes", "Richardson", "Rivera",
    "Roberts", "Robinson", "Rodriguez", "Rogers", "Ross", "Sanchez", "Sanders", "Scott", "Shah", "Silva",
    "Smith", "Stewart", "Sullivan", "Taylor", "Thomas", "Thompson", "Torres", "Turner", "Walker", "Ward",
    "Watson", "White", "Williams", "Wilson", "Wood", "Wright", "Young",
)  # fmt: skip

COMPANY_WORDS = (
    "Atlas", "Beacon", "Blue Harbor", "Bright", "Cedar", "Clear", "Copper", "Crescent", "Crown", "Delta",
    "Evergreen", "Falcon", "Golden Gate", "Granite", "Harbor", "Horizon", "Iron", "Keystone", "Lakeside", "Liberty",
    "Maple", "Meridian", "Northwind", "Oak", "Orbit", "Pacific", "Pinnacle", "Prairie", "Redwood", "Ridge",
    "River", "Silverline", "Summit", "Sterling", "Sunrise", "True North", "Union", "Vertex", "Westfield", "Zenith",
)  # fmt: skip

COMPANY_NOUNS = (
    "Analytics", "Bakery", "Brands", "Builders", "Capital", "Consulting", "Dental", "Designs", "Digital", "Energy",
    "Foods", "Freight", "Health", "Industries", "Labs", "Learning", "Logistics", "Manufacturing", "Media", "Networks",
    "Outfitters", "Partners", "Robotics", "Solutions", "Studios", "Supply", "Systems", "Technologies", "Travel", "Works",
)  # fmt: skip

COMPANY_SUFFIXES = ("Inc", "LLC", "Ltd", "PLC", "Group", "and Sons", "Co")

INDUSTRIES = (
    "Technology",
    "Software",
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Financial Services",
    "Education",
    "Media",
    "Logistics",
    "Professional Services",
)

ACCOUNT_OWNERS = ("Dana Whitfield", "Marcus Lee", "Priya Raman", "Tom Becker", "Sofia Alvarez", "Kenji Mori")

CONTACT_ROLES = ("admin", "billing", "manager", "member", "member", "developer", "analyst", "member")

# Ticket subjects per category; "{feature}" is filled in with one of the customer's features.
TICKET_SUBJECTS = {
    "billing": (
        "Question about our latest invoice",
        "Card declined on renewal",
        "Need a VAT number on invoices",
        "Charged for more seats than we use",
        "How do I switch to annual billing?",
    ),
    "bug": (
        "{feature} page shows an error",
        "{feature} not loading since this morning",
        "Data export failing for large {feature}",
        "Sync with {feature} stopped working",
        "Wrong totals in {feature}",
    ),
    "how_to": (
        "How do I share {feature} with a client?",
        "How can I bulk-edit {feature}?",
        "Setting up permissions for {feature}",
        "Best way to organise {feature}?",
        "How do I invite my team?",
    ),
    "feature_request": (
        "Request: custom fields in {feature}",
        "Can {feature} support recurring items?",
        "Dark mode for {feature}",
        "Request: more filters in {feature}",
    ),
    "account": (
        "Add a new admin to our account",
        "Reset two-factor authentication",
        "Change the account owner",
        "SSO login problems",
    ),
}
