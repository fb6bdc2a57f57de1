"""An event's questions of every type, in the six languages, with a conditional one: the
definitions the question tests share (in the import file's shape) and a valid set of answers."""

from registration.questions_exchange import parse_questions, save_questions


def texts(en, **others):
    base = {"fr": f"{en} (fr)", "es": f"{en} (es)", "ru": f"{en} (ru)", "zh-hans": f"{en} (zh)"}
    base["ar"] = f"{en} (ar)"
    return {"en": en, **base, **others}


def choice(key, en, **others):
    return {"key": key, "label": texts(en, **others)}


EVERY_TYPE = [
    {
        "key": "position",
        "type": "text",
        "required": True,
        "label": texts("Your position"),
        "help": texts("As printed on your badge"),
        "personal": True,
    },
    {
        "key": "panel_question",
        "type": "long_text",
        "required": False,
        "label": texts("Your question for the panel"),
        "personal": True,
    },
    {
        "key": "access",
        "type": "choice",
        "required": True,
        "label": texts("Do you need sign-language interpretation or captions?"),
        "choices": [
            choice("sign", "Sign language", ar="لغة الإشارة"),
            choice("captions", "Captions"),
            choice("none", "Neither"),
        ],
    },
    {
        "key": "delegation",
        "type": "select",
        "required": True,
        "label": texts("Which Member State?"),
        "choices": [choice("sn", "Senegal"), choice("fr", "France")],
        "show_if": {"question": "affiliation", "equals": "member_state"},
    },
    {
        "key": "topics",
        "type": "multiple",
        "required": False,
        "label": texts("Topics of interest"),
        "choices": [
            choice("prisons", "Prisons"),
            choice("youth", "Youth"),
            choice("gender", "Gender"),
        ],
    },
    {
        "key": "list_name",
        "type": "yes_no",
        "required": False,
        "label": texts("May we list your name in the report?"),
    },
    {
        "key": "delegates",
        "type": "number",
        "required": False,
        "label": texts("How many people in your delegation?"),
    },
    {"key": "arrival", "type": "date", "required": False, "label": texts("Arrival date")},
    {
        "key": "residence",
        "type": "country",
        "required": False,
        "label": texts("Country of residence"),
    },
    {
        "key": "assistant_email",
        "type": "email",
        "required": False,
        "label": texts("Your assistant's email"),
        "personal": True,
    },
    {
        "key": "website_url",
        "type": "url",
        "required": False,
        "label": texts("Your organisation's website"),
    },
]

# A valid POST's answers (not a member state, so "delegation" is not asked).
ANSWERS_POST = {
    "q_position": "Programme officer",
    "q_panel_question": "How do prisons\nprevent radicalisation?",
    "q_access": "captions",
    "q_topics": ["prisons", "gender"],
    "q_list_name": "on",
    "q_delegates": "3",
    "q_arrival": "2027-06-24",
    "q_residence": "SN",
    "q_assistant_email": "aide@example.org",
    "q_website_url": "https://prison-reform.example.org",
}

STORED = {
    "position": "Programme officer",
    "panel_question": "How do prisons\nprevent radicalisation?",
    "access": "captions",
    "topics": ["prisons", "gender"],
    "list_name": True,
    "delegates": 3,
    "arrival": "2027-06-24",
    "residence": "SN",
    "assistant_email": "aide@example.org",
    "website_url": "https://prison-reform.example.org",
}


def add_questions(event, definitions=None):
    save_questions(event=event, parsed=parse_questions(definitions or EVERY_TYPE))
    return event
