"""Capitalised names in text, and the general English word lists that classify them.

``name_runs`` finds runs of capitalised words (joined by connectors such as "of", "de", "al-",
"&"), drops sentence-initial function words, leading titles ("Secretary of State", "Sen.") and lone
demonyms, months and weekdays, and classifies each run roughly as a person (a title, a common first
name, an initial, "Jr."), an organisation ("Inc", "Party", "Department", an acronym), a place (a small
gazetteer, a place word such as "County", or "in/at/from <Name>") or an unclassified name. The word
lists are general English: role, organisation, place and other head nouns, titles, common first names,
demonyms, question words, connectives, and units of time, money and share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

AnswerKind = Literal["person", "organisation", "place", "date", "number", "money", "share", "duration", "name", "reason"]
NAMED_KINDS: frozenset[str] = frozenset({"person", "organisation", "place", "name"})


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


# ---- general English word lists ---------------------------------------------------------------

PERSON_NOUNS = word_set("""official officer senator minister host judge justice spokesman spokeswoman spokesperson
person man woman people candidate nominee president leader member lawmaker legislator congressman congresswoman
representative governor mayor secretary director chief executive ceo cfo chairman chairwoman chair founder cofounder
owner author writer reporter journalist columnist editor anchor correspondent analyst expert economist scientist
researcher professor doctor physician surgeon nurse lawyer attorney prosecutor counsel defendant suspect victim
witness player coach athlete actor actress singer rapper artist musician producer celebrity king queen prince
princess emperor pope cardinal bishop priest imam rabbi general admiral soldier commander agent detective sheriff
chancellor premier diplomat ambassador envoy adviser advisor aide staffer strategist manager pollster donor
billionaire businessman businesswoman entrepreneur investor activist protester rival opponent challenger incumbent
speaker whistleblower hacker employee worker student teacher father mother son daughter wife husband brother sister
child boy girl patient citizen resident immigrant refugee gunman shooter attacker killer commissioner inspector
administrator treasurer novelist poet historian comedian blogger dictator monarch ruler commentator pundit winner
champion heir successor predecessor deputy lieutenant captain sergeant colonel pilot astronaut designer architect
engineer magistrate trustee negotiator hostage survivor appointee lady sheikh""")
ORG_NOUNS = word_set("""company firm corporation business agency group organisation organization newspaper
newsletter magazine paper publication network channel broadcaster station outlet union party department ministry
bank institution university college school hospital committee council commission board government administration
team club league charity foundation nonprofit association federation coalition alliance campaign army military
militia faction movement website manufacturer maker automaker carrier airline retailer chain publisher studio label
startup conglomerate insurer lender regulator watchdog laboratory lab institute tank pac lobby court parliament
legislature congress senate operator provider supplier contractor developer tabloid utility fund""")
PLACE_NOUNS = word_set("""city state country town village region province county district area place location nation
capital island continent neighborhood neighbourhood borough suburb territory port street avenue address venue
stadium arena airport border destination municipality constituency precinct hometown birthplace headquarters""")
DATE_NOUNS = word_set("year date day month week decade century time season era deadline weekday")
NUMBER_NOUNS = word_set("number age population toll count tally total quantity size height length distance weight margin score")
MONEY_NOUNS = word_set("""price cost amount sum fee fine salary wage budget value worth bail ransom bonus payment
compensation settlement bid donation funding revenue profit earnings income debt deficit spending grant bounty
reward penalty damages valuation tax pay pension subsidy""")
SHARE_NOUNS = word_set("percentage percent % share proportion fraction portion rate ratio")
REASON_NOUNS = word_set("reason cause motive motivation explanation grounds rationale purpose justification excuse")
NAME_NOUNS = word_set("""name book film movie song album show series program programme documentary novel play title
law act bill treaty accord operation project product drug vaccine app software device phone model ship vessel
aircraft plane weapon missile hurricane storm festival award prize tournament game language religion hashtag
nickname brand initiative platform video podcast painting report study poll event conference summit""")
_HEAD: dict[str, AnswerKind] = {}
for _kind, _nouns in (("name", NAME_NOUNS), ("reason", REASON_NOUNS), ("organisation", ORG_NOUNS),
                      ("place", PLACE_NOUNS), ("person", PERSON_NOUNS), ("date", DATE_NOUNS), ("number", NUMBER_NOUNS),
                      ("money", MONEY_NOUNS), ("share", SHARE_NOUNS)):  # later lists win a word found in two
    _HEAD.update(dict.fromkeys(_nouns, _kind))  # type: ignore[arg-type]
_IRREGULAR = {"people": "person", "men": "man", "women": "woman", "children": "child", "series": "series",
              "headquarters": "headquarters", "media": "media", "data": "data", "criteria": "criterion"}

TITLES = word_set("""mr mrs ms miss dr sir dame lord lady sen rep gov lt col gen sgt capt cmdr prof rev hon
president senator governor mayor secretary minister chancellor premier judge justice speaker ambassador commissioner
director chairman chairwoman chair chief ceo cfo general admiral colonel captain lieutenant sergeant officer
detective sheriff king queen prince princess emperor pope cardinal bishop rabbi imam sheikh ayatollah representative
congressman congresswoman leader whip attorney counsel spokesman spokeswoman adviser advisor coach professor dean
deputy vice prime acting first""")
ORG_WORDS = word_set("""inc corp corporation co company ltd llc plc group party department agency university college
institute bank association foundation council committee commission ministry bureau service services times post
journal news network press tribune herald gazette union federation society court congress senate house
administration police army navy corps board authority organization organisation fund trust club airlines airways
motors media holdings partners securities systems technologies labs pharmaceuticals hospital school church reserve
treasury pentagon kremlin parliament assembly cabinet office electric mills energy industries enterprises
communications broadcasting studios records pictures entertainment magazine review daily weekly telegraph observer
independent monitor examiner chronicle inquirer standard mirror express channel radio command forces guard patrol
center centre institution""")
PLACE_WORDS = word_set("""city county province island islands river valley street avenue boulevard road square park
mountains mountain bay sea ocean lake beach heights airport peninsula strait gulf coast desert canyon hills springs
falls harbor harbour bridge tower plaza palace stadium arena village township borough region territory republic
kingdom emirates states""")
GAZETTEER = frozenset("""afghanistan|albania|algeria|angola|argentina|armenia|australia|austria|azerbaijan|bahrain|
bangladesh|belarus|belgium|bolivia|bosnia|brazil|bulgaria|cambodia|cameroon|canada|chile|china|colombia|congo|croatia|
cuba|cyprus|czech republic|denmark|ecuador|egypt|estonia|ethiopia|finland|france|georgia|germany|ghana|greece|guatemala|
haiti|honduras|hungary|iceland|india|indonesia|iran|iraq|ireland|israel|italy|jamaica|japan|jordan|kazakhstan|kenya|
korea|north korea|south korea|kosovo|kuwait|laos|latvia|lebanon|libya|lithuania|luxembourg|malaysia|mali|malta|mexico|
moldova|mongolia|morocco|myanmar|nepal|netherlands|new zealand|nicaragua|niger|nigeria|norway|oman|pakistan|palestine|
panama|paraguay|peru|philippines|poland|portugal|qatar|romania|russia|rwanda|saudi arabia|scotland|senegal|serbia|
singapore|slovakia|slovenia|somalia|south africa|south sudan|spain|sri lanka|sudan|sweden|switzerland|syria|taiwan|
tajikistan|tanzania|thailand|tunisia|turkey|uganda|ukraine|united arab emirates|united kingdom|united states|america|
uruguay|uzbekistan|venezuela|vietnam|wales|england|britain|great britain|yemen|zambia|zimbabwe|gaza|crimea|europe|asia|
africa|alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|hawaii|idaho|illinois|indiana|
iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|michigan|minnesota|mississippi|missouri|montana|nebraska|
nevada|new hampshire|new jersey|new mexico|new york|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|
rhode island|south carolina|south dakota|tennessee|texas|utah|vermont|virginia|washington|west virginia|wisconsin|
wyoming|london|paris|berlin|moscow|beijing|tokyo|rome|madrid|brussels|geneva|vienna|kiev|kyiv|istanbul|ankara|tehran|
baghdad|damascus|aleppo|mosul|raqqa|beirut|jerusalem|tel aviv|cairo|riyadh|dubai|kabul|islamabad|delhi|new delhi|
mumbai|shanghai|hong kong|seoul|pyongyang|manila|jakarta|sydney|toronto|ottawa|montreal|vancouver|mexico city|havana|
caracas|bogota|lima|brasilia|rio de janeiro|sao paulo|buenos aires|lagos|nairobi|johannesburg|dublin|edinburgh|
manchester|los angeles|chicago|houston|phoenix|philadelphia|san antonio|san diego|dallas|san francisco|seattle|denver|
boston|detroit|atlanta|miami|baltimore|cleveland|pittsburgh|orlando|las vegas|new orleans|st. louis|milwaukee|
minneapolis|charlotte|nashville|austin|portland|sacramento|brooklyn|manhattan|queens|silicon valley|wall street|
capitol hill|us|u.s.|usa|u.s.a.|uk|u.k.|uae|d.c.|dc|nyc""".replace("\n", "").split("|"))
FIRST_NAMES = word_set("""john james robert michael william david richard joseph thomas charles christopher daniel
matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward jason jeffrey
ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin samuel gregory alexander frank
patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas peter kyle walter noah jeremy keith
roger terry gerald harold sean carl arthur lawrence jesse bryan billy joe bruce albert alan juan wayne randy roy
vincent ralph eugene russell bobby philip louis bill bernie barack hillary mitt mike jim tom tim bob ted chris newt
rudy rand marco jeb ben nancy mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa betty
margaret sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon
laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole helen samantha katherine christine rachel
janet catherine maria heather diane ruth julie olivia joyce victoria kelly lauren christina joan evelyn judith megan
andrea hannah martha gloria teresa ann sara frances jean alice judy sophia grace denise marie diana natalie theresa
kellyanne ivanka melania huma debbie valerie vladimir sergei dmitry boris nicolas emmanuel francois recep bashar
hassan ali mohammed muhammad ahmed omar abdullah ivan pierre carlos luis miguel jorge pedro hans klaus martin paolo
shinzo narendra xi kim moon rex jared steve reince""")
DEMONYMS = word_set("""american americans british russian russians chinese syrian syrians iranian iranians iraqi
iraqis israeli israelis palestinian palestinians french german germans mexican mexicans canadian canadians european
europeans african africans asian asians arab arabs muslim muslims christian christians jewish jew jews catholic
catholics protestant evangelical evangelicals hispanic hispanics latino latinos kurdish kurds turkish ukrainian
japanese korean koreans indian pakistani afghan saudi egyptian libyan italian spanish irish scottish english dutch
swedish polish greek cuban venezuelan brazilian australian western eastern northern southern republican republicans
democrat democrats democratic conservative conservatives liberal liberals tory tories islamist islamists sunni
sunnis shiite shiites shia""")
MONTHS = word_set("january february march april may june july august september october november december")
MONTH_WORDS = MONTHS | word_set("jan feb mar apr jun jul aug sep sept oct nov dec")
WEEKDAYS = word_set("monday tuesday wednesday thursday friday saturday sunday")
_FUNCTION = word_set("""the a an this that these those he she it they we i you his her its their our my your in on
at for but and or so if when while after before as since because although though yet there here what who whom whose
which where why how according during despite under over with without by from to of some many most all both each
every no not also however meanwhile still even now then today yesterday tomorrow last next later earlier is was are
were be been did does do has have had can could will would should might must such than other another more less only
just about into through against among between within instead one two three four five six seven eight nine ten first
second third former name list tell give describe explain identify please amid amidst amongst across along alongside
around behind beside besides below beneath beyond above until unlike via toward towards near regarding concerning
throughout upon onto outside inside""")
_COMMON_STARTS = word_set("""police authorities protests critics supporters voters investigators sources reports
polls results troops forces rebels militants fighters demonstrators markets shares stocks prices sales officials
residents talks negotiations efforts plans families tensions fears concerns questions claims allegations charges
documents emails""")
_ABBREV = word_set("jr sr st inc corp co ltd mr mrs ms dr gen sen rep gov lt col sgt capt prof rev mt ft no vs")
_CONNECT = word_set("of de da del della di van von der den du la le bin ibn y dos das &")
_PLACE_PREPS = word_set("in near across outside inside into throughout toward towards")  # not "from", "to", "at"
_SAY = word_set("said says told wrote added argued tweeted testified claimed insisted warned")
_SAID = [[w] for w in _SAY]


# ---- question words, connectives and units ----------------------------------------------------

WH_WORDS = word_set("who whom whose which what where when why how")
CLAUSE_MARKS = frozenset(",;:(“\"—–")
WH_LEAD_INS = word_set("tell me us explain say know reveal and but or so then exactly precisely ask asked wonder describe "
                       "show")
PREPOSITIONS = word_set("""in on at for from to by with about against during after before since over under into onto
through between among without within across toward towards near per as than like upon of""")
AUXILIARIES = word_set("is was are were be been being did does do has have had will would can could should may might must "
                       "shall 's")
BE_FORMS = word_set("is was are were 's")
DETERMINERS = word_set("the a an this that these those his her its their our my your")
HEAD_MODIFIERS = DETERMINERS | word_set("""one two three four five six seven eight nine ten several other another
main largest biggest smallest first second third last new former current top leading major particular specific exact
single only same most least key best worst highest lowest""")
HEAD_STOPS = PREPOSITIONS | AUXILIARIES | word_set("that who whom which whose and or ? , ; : ( ) “ ” \" — –")
REASON_VERBS = word_set("caused prompted led motivated drove triggered sparked made causes prompts leads drives triggers")
MEASURE_WORDS = word_set("old long far tall big large high deep heavy fast wide")
RELATIVE_DATE_WORDS = word_set("yesterday today tonight tomorrow last next this past earlier later previous following ago "
                               "quarter")
CURRENCY_WORDS = word_set("""dollar dollars pound pounds euro euros yen yuan renminbi rupee rupees rouble roubles
ruble rubles franc francs peso pesos cent cents pence dinar dinars riyal riyals shekel shekels lira bitcoin bitcoins""")
SHARE_WORDS = word_set("""percent cent half halves third thirds quarter quarters fifth fifths sixth sixths seventh
sevenths eighth eighths ninth ninths tenth tenths""")
WEAK_REASONS = word_set("after amid amidst over since as saying")  # connectives that open a reason only sometimes
REASON_WORDS = WEAK_REASONS | word_set("because due owing thanks result order so response retaliation protest grounds fear "
                                       "citing")
PRONOUNS = word_set("it he she they we you i there")
TIME_WORDS = word_set("""past last next weekend weekends years months weeks days hours decades course period summer
winter spring fall autumn holidays holiday phone internet radio night year month week decade time coming following
previous which that this midnight noon dark all""")
PARTICLE_VERBS = word_set("took take takes taken taking hand handed handing turn turned turning won win all look looked "
                          "pass passed passing get got come came left")
OVER_REASON_STARTS = PRONOUNS | word_set("the his her their its a an what how whether alleged concerns allegations claims "
                                         "fears accusations reports")


def _singular(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith("men") and len(word) > 4:
        return word[:-3] + "man"
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def noun_class(word: str) -> AnswerKind | None:
    """The answer kind a head noun asks for ("senator" → person, "newspaper" → organisation), if any."""
    word = word.lower()
    return _HEAD.get(word) or _HEAD.get(_singular(word))


# ---- capitalised runs: people, organisations, places, other names ------------------------------

_TOKEN = re.compile(r"(?:(?:al|el|ad|as|ash|an|at|bin|ibn)-)?[^\W\d_](?:[\w'’&.-]*[\w.])?|&")
_ACRONYM = re.compile(r"(?:[A-Z]\.){2,}|[A-Z][A-Z&]{1,5}")
_OPENING_WORD = re.compile(r"\w{3,}(?:ly|ing)$")
_LOWER_TAIL = re.compile(r"-[a-z]+$")
_PARTY_STATE = re.compile(r"[DRI]-[A-Z][a-z]{0,5}\.?$")  # "D-Calif.": a legislator's party and state
_STARTERS = frozenset(".!?\"“”:;(—–‘'")


class _Tok(NamedTuple):
    start: int
    end: int
    text: str
    low: str
    cap: bool
    ends: bool  # the run ends after it: it had a possessive 's or a tail such as "-based" (removed from text)
    first: bool  # opens a sentence or a quotation


_PREFIX = r"(?:al|el|ad|as|ash|an|at|bin|ibn)-"
_CAP_WORD = r"[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’&.-]*"  # a capital first: the search skips to capitals quickly
_RUN = re.compile(rf"{_CAP_WORD}(?:[ \t]+(?:(?:of|de|da|del|della|di|van|von|der|den|du|la|le|los|bin|ibn|y|dos|das|&|"
                  rf"the|for|on|and)[ \t]+){{0,2}}(?:{_PREFIX})?{_CAP_WORD})*")
_LEADING_PREFIX = re.compile(rf"{_PREFIX}$")
_APPOSITIVE = re.compile(r",\s+(?:a|an|the)\s+((?:[\w-]+\s+){0,2}[\w-]+)")
_AGE = re.compile(r",\s+\d{1,3},")


def _tokens(text: str, start: int, end: int) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text, start, end):
        word, start = m.group(), m.start()
        ends = len(word) > 3 and word[-2] in "'’" and word[-1] == "s"
        tail = _LOWER_TAIL.search(word)  # "Seattle-based", "Kremlin-backed": the name, then the run ends
        if ends:
            word = word[:-2]
        elif tail and word[0].isupper():
            word, ends = word[:tail.start()], True
        elif word[-1] == "." and not (len(word) == 2 or word[:-1].lower() in _ABBREV or _ACRONYM.fullmatch(word)):
            word = word[:-1]
        if not word:
            continue
        body = word.split("-", 1)[1] if "-" in word[:4] and _LEADING_PREFIX.match(word[:word.index("-") + 1]) else word
        cap = (body[:1].isupper() or (body[1:2].isupper() and body[0].islower())) \
            and not (word[1:2] == "-" and _PARTY_STATE.match(word))
        j = start - 1
        while j >= 0 and text[j].isspace():
            j -= 1
        out.append(_Tok(start, start + len(word), word, word.lower().rstrip("."), cap, ends, j < 0 or text[j] in _STARTERS))
    return out


def _connects(conn: list[_Tok], run: list[_Tok]) -> bool:
    words = [t.low for t in conn]
    if len(words) == 1 and words[0] in _CONNECT:
        return True
    if len(words) == 2 and words[0] in ("of", "van", "von", "de") and words[1] in ("the", "der", "den", "la", "los"):
        return True
    return (words in (["for"], ["on"]) and run[-1].low in ORG_WORDS) or (
        words == ["and"] and run[0].low in ORG_WORDS and any(t.low == "of" for t in run))


def _strip_titles(run: list[_Tok]) -> tuple[list[_Tok], bool]:
    """Drop a leading title ("Secretary of State", "Prime Minister", "Sen.") from a name."""
    if run[-1].low in ORG_WORDS or run[-1].low in PLACE_WORDS:
        return run, False
    cut = 0
    j = 0
    while j < min(len(run), 6):
        low = run[j].low.split("-")[0]
        if low in TITLES:
            cut = j + 1
            if j + 1 < len(run) and run[j + 1].low == "of":  # "Secretary of (the) State"
                k = j + 2 + (j + 2 < len(run) and run[j + 2].low == "the")
                cut = j = min(k + 1, len(run))
                continue
        j += 1
    return run[cut:], cut > 0


def _classify(run: list[_Tok], titled: bool, before: str, after: str) -> AnswerKind | None:
    """The rough class of a run, from its words and the text just before and after it."""
    low = [t.low for t in run if t.cap]
    joined = " ".join(t.low for t in run)
    if len(run) == 1 and (low[0] in DEMONYMS or low[0] == "i"):
        return None
    if all(w in MONTH_WORDS or w in WEEKDAYS for w in low):
        return None
    if titled:
        return "person"
    if joined in GAZETTEER or " ".join(t.text.lower() for t in run) in GAZETTEER:
        return "place"
    if low[-1] in PLACE_WORDS and len(low) > 1 and not any(t.low == "of" for t in run):
        return "place"  # the last word is the head: "Union Square", "Court Street" (but "League of … City" is not)
    if any(w in ORG_WORDS for w in low) or (len(run) == 1 and _ACRONYM.fullmatch(run[0].text)):
        return "organisation"
    if low[-1] in PLACE_WORDS or after.startswith("-based"):
        return "place"
    if low[0] in FIRST_NAMES or low[-1] in ("jr", "sr", "ii", "iii") or any(len(t.text) == 2 and t.text[1] == "."
                                                                          for t in run[1:-1]):
        return "person"
    prev = before.split()[-1].lower() if before.split() else ""
    if prev in _PLACE_PREPS and not (run[-1].ends and after[:1] in "'’") and len(run) <= 3:
        return "place"
    nxt = after.split()[:1]
    appositive = _APPOSITIVE.match(after)
    if len(run) > 1 and ((nxt and nxt[0].lower() in _SAY) or after.startswith(", who") or _AGE.match(after) or (
            appositive and any(noun_class(w) == "person" for w in appositive.group(1).split()))):
        return "person"
    return "name"


def _finish(text: str, run: list[_Tok]) -> tuple[int, int, str, AnswerKind | None] | None:
    while run and (run[0].low in ("the", "a", "an") or not run[0].cap or (run[0].first and (
            run[0].low in _FUNCTION or run[0].low in _COMMON_STARTS or (
                noun_class(run[0].low) is not None and run[0].low not in TITLES))) or
            run[0].low in _CONNECT):
        run = run[1:]
    if not run:
        return None
    if len(run) == 1 and run[0].first and _OPENING_WORD.search(run[0].low) and run[0].low not in FIRST_NAMES \
            and run[0].low not in GAZETTEER and text[run[0].end:run[0].end + 12].split()[:1] not in _SAID:
        return None  # "Early this morning", "Reflecting on …": an adverb or participle opening the sentence
    run, titled = _strip_titles(run)
    while run and not run[-1].cap:
        run = run[:-1]
    if not run:
        return None
    start, end = run[0].start, run[-1].end
    kind = _classify(run, titled, text[max(0, start - 20):start], text[end:end + 40])
    return start, end, text[start:end], kind


def _pieces(text: str, toks: list[_Tok]) -> Iterator[list[_Tok]]:
    """Split a candidate run at possessives, sentence ends and connectors that do not join names."""
    run: list[_Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if not run:
            run = [t] if t.cap else []
            i += 1
            continue
        prev = run[-1]
        if text[prev.end:t.start].isspace() and not prev.ends and not (prev.text[-1] == "." and t.low in _FUNCTION):
            if t.cap:
                run.append(t)
                i += 1
                continue
            k = i
            while k < len(toks) and not toks[k].cap and k - i < 2:
                k += 1
            if k < len(toks) and text[toks[k - 1].end:toks[k].start].isspace() and _connects(toks[i:k], run) \
                    and toks[k].low not in WEEKDAYS and toks[k].low not in MONTH_WORDS:
                run.extend(toks[i:k + 1])
                i = k + 1
                continue
        yield run
        run = []
        i += not t.cap
    if run:
        yield run


def name_runs(text: str) -> list[tuple[int, int, str, AnswerKind | None]]:
    """Runs of capitalised words as (start, end, text, kind); kind ``None`` for a lone demonym, month or weekday."""
    out = []
    for m in _RUN.finditer(text):
        prefix = _LEADING_PREFIX.search(text, max(0, m.start() - 4), m.start())  # "al-Assad"
        start = prefix.start() if prefix else m.start() - (m.start() > 0 and text[m.start() - 1].isalpha())  # "eBay"
        for run in _pieces(text, _tokens(text, start, m.end())):
            found = _finish(text, run)
            if found:
                out.append(found)
    return out
