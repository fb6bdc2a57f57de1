"""The demo documents' text (our own words, after the facts of the real side event), and the
command that writes them as PDFs: python -m events.demo.content
"""

from pathlib import Path

from events.demo.pdf import simple_pdf

HERE = Path(__file__).resolve().parent

TITLE = (
    "Engagement of CSOs in the management of VEPs and prevention of radicalization to "
    "violence in prisons"
)

CONCEPT_NOTE = [
    "A virtual side event of the second United Nations Counter-Terrorism Week.",
    "# Background",
    "Prisons hold a growing number of people convicted of terrorism-related offences or linked "
    "to violent extremist groups. How these violent extremist prisoners (VEPs) are managed, and "
    "how radicalization to violence inside prisons can be prevented, is a shared concern of the "
    "international community. Security Council resolutions 1624 (2005), 2178 (2014) and 2396 "
    "(2017) ask States to address these risks, including through rehabilitation and "
    "reintegration.",
    "Civil society organisations (CSOs) can offer what prison systems often lack: trust, "
    "continuity from inside the prison to life after release, mentoring, education, "
    "psychosocial and family support, adapted to the gender and age of each person. Yet they "
    "are frequently kept at a distance because of security concerns, weak coordination or "
    "political sensitivities, while CSOs themselves may lack resources and specialised "
    "training, and risk being used for aims that are not their own.",
    "# Purpose",
    "The side event is a platform to discuss how CSOs can take part in the management of "
    "violent extremist prisoners: what their involvement brings, what stands in the way, how "
    "cooperation with prison administrations can be organised, and which practices and "
    "lessons have proved useful.",
    "# Expected outcomes",
    "1. Show what CSOs and independent experts contribute to the rehabilitation and "
    "reintegration of prisoners linked to violent extremist groups, and to the training of "
    "prison staff.",
    "2. Show how cooperation between CSOs and Member States can reduce violent extremism in "
    "prisons.",
    "3. Raise awareness of the political, operational and logistical obstacles to working "
    "together.",
    "4. Share first-hand experience of strategies and good practices from Member States and CSOs.",
    "# Format",
    "A 90-minute online meeting, 12:30 to 14:00 New York time, on the date shown on the event "
    "page, with interpretation in Arabic, Chinese, English, French, Russian and Spanish. "
    "Registered participants receive the meeting link by email the day before the event.",
]

AGENDA = [
    "Virtual side event, second United Nations Counter-Terrorism Week. All times are New York "
    "time; the event page shows them in UTC and in your own time zone too.",
    "# 12:30 - 12:40  Opening and welcome",
    "Why civil society matters in prison settings; purpose of the meeting.",
    "# 12:40 - 13:10  Panel 1: What civil society brings to rehabilitation and reintegration",
    "Practitioners and independent experts on mentoring, family and psychosocial support, "
    "gender- and age-sensitive approaches, and the training of prison staff.",
    "# 13:10 - 13:40  Panel 2: Member States and civil society working together",
    "Prison administrations and CSOs on the conditions for cooperation: security, "
    "coordination, resources, independence.",
    "# 13:40 - 13:55  Questions from participants",
    "# 13:55 - 14:00  Closing remarks",
]


def write_documents():
    (HERE / "concept-note.pdf").write_bytes(simple_pdf(f"Concept note: {TITLE}", CONCEPT_NOTE))
    (HERE / "agenda.pdf").write_bytes(simple_pdf(f"Agenda: {TITLE}", AGENDA))


if __name__ == "__main__":
    write_documents()
