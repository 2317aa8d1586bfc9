"""Write a synthetic graph shaped like ours, of about N triples, deterministic from a seed.

The output folder holds byte copies of the packaged data files (the Act, Article 19-4(2) and its
nine duties, the 2023 institutions, notice, programmes, cities and sources: so the named queries'
default parameters find something) and `synthetic.nt`, fabricated rounds of: a notice, the
institutions it designates (with designations and, for some, an rdf:Statement annotation), tasks
assigned to them with duty mappings to the packaged duties (reasons in English and Korean,
isAmbiguous), a programme, an article of a synthetic act with paragraphs, subparagraphs and their
Korean and English expressions, and now and then a sector and a pilot city with its site. Every
resource has English and Korean labels, and the whole conforms to the packaged shapes.

Generation stops at the first complete resource past the target, so the data files (packaged and
synthetic together) hold the requested number of triples to within a few dozen. Same seed, same
bytes: nothing depends on the clock, hashing or set order.

    python bench/generate.py --triples 100000 --seed 1 --output bench/out/100k
"""

import argparse
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from smartcity_kg.paths import turtle_files

B = "https://w3id.org/smartcity-kr/"
SKG = B + "def#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ELI = "http://data.europa.eu/eli/ontology#"
ORG = "http://www.w3.org/ns/org#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"

# IRIs of the packaged data that synthetic resources point at (never restated as facts here).
ARTICLE_19_4_PAR_1 = B + "eli/kr/act/2008/9052/art_19-4/par_1"
MINISTRY = B + "institution/molit"
DUTIES = [f"{B}duty/19-4-2-{n}" for n in range(1, 10)]
PACKAGED_SECTORS = [B + f"sector/{s}" for s in ("energy", "environment", "safety", "living",
                    "transportation", "healthcare", "education", "cyber-security")]  # fmt: skip
PACKAGED_CITIES = [B + "city/sejong", B + "city/busan"]
PACKAGED_PROGRAMMES = [B + "programme/national-pilot-smart-city", B + "programme/base-smart-city"]
BODY_TYPES = [B + f"body-type/{t}" for t in ("research-institute", "public-agency",
              "public-corporation", "incorporated-association")]  # fmt: skip
CONFIDENCE = [B + f"confidence/{c}" for c in ("verified", "likely", "unverified")]
SOURCE = B + "source/synthetic"

# Fabricated wording: (English, Korean) pairs combined into labels and reasons.
ACTIVITIES = [("Support for", "지원"), ("Management of", "관리"), ("Operation of", "운영"),
              ("Research on", "연구"), ("Certification of", "인증"), ("Training on", "교육"),
              ("Evaluation of", "평가"), ("Promotion of", "진흥")]  # fmt: skip
OBJECTS = [("smart city data hubs", "스마트도시 데이터 허브"), ("urban testbeds", "도시 실증단지"),
           ("digital twins", "디지털 트윈"), ("mobility services", "모빌리티 서비스"),
           ("energy platforms", "에너지 플랫폼"), ("safety networks", "안전 네트워크"),
           ("citizen living labs", "시민 리빙랩"), ("overseas projects", "해외 사업")]  # fmt: skip

TASKS_PER_INSTITUTION = 6
INSTITUTIONS_PER_NOTICE = 4
ROUNDS_PER_ACT = 10
ROUNDS_PER_SECTOR = 20
ROUNDS_PER_CITY = 50


def iri(value: str) -> str:
    return f"<{value}>"


def text(value: str, lang: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}'


def typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


class Chunk:
    """The triples of one resource (and its dependants), written as N-Triples lines."""

    def __init__(self):
        self.lines: list[str] = []

    def add(self, subject: str, predicate: str, obj: str) -> None:
        self.lines.append(f"{subject} <{predicate}> {obj} .\n")

    def labels(self, subject: str, english: str, korean: str) -> None:
        self.add(subject, SKOS + "prefLabel", text(english, "en"))
        self.add(subject, SKOS + "prefLabel", text(korean, "ko"))

    def provenance(self, subject: str, confidence: str = CONFIDENCE[0]) -> None:
        self.add(subject, PROV + "wasDerivedFrom", iri(SOURCE))
        self.add(subject, SKG + "confidence", iri(confidence))


@dataclass
class World:
    """What earlier chunks have made, for later ones to refer to."""

    rng: random.Random
    sectors: list[str]
    cities: list[str]
    programmes: list[str]
    institutions: list[str]
    statements: int = 0


def chunks(seed: int) -> Iterator[Chunk]:
    """Yield chunks forever, round after round; each refers only to chunks before it."""
    world = World(random.Random(seed), list(PACKAGED_SECTORS), list(PACKAGED_CITIES),
                  list(PACKAGED_PROGRAMMES), [])  # fmt: skip
    yield source_chunk()
    round_number = 0
    while True:
        round_number += 1
        if round_number % ROUNDS_PER_SECTOR == 0:
            yield sector_chunk(world, round_number)
        if round_number % ROUNDS_PER_CITY == 0:
            yield city_chunk(world, round_number)
        yield programme_chunk(world, round_number)
        yield from legal_chunks(round_number)
        notice = f"{B}notice/{notice_date(round_number)}"
        yield notice_chunk(notice, round_number)
        for k in range(1, INSTITUTIONS_PER_NOTICE + 1):
            institution = f"{B}institution/gen-{round_number}-{k}"
            yield institution_chunk(world, institution, notice, round_number, k)
            for bullet in range(1, TASKS_PER_INSTITUTION + 1):
                yield task_chunk(world, institution, notice, bullet)


def notice_date(round_number: int) -> str:
    """Return a distinct date per round, from 2024-01-01 (after every packaged notice)."""
    year, day = divmod(round_number - 1, 336)
    month, day = divmod(day, 28)
    return f"{2024 + year:04d}-{month + 1:02d}-{day + 1:02d}"


def source_chunk() -> Chunk:
    chunk = Chunk()
    chunk.add(iri(SOURCE), RDF + "type", iri(PROV + "Entity"))
    chunk.add(iri(SOURCE), RDF + "type", iri(DCT + "BibliographicResource"))
    chunk.labels(iri(SOURCE), "Synthetic benchmark data", "가상 벤치마크 데이터")
    return chunk


def sector_chunk(world: World, round_number: int) -> Chunk:
    sector, chunk = f"{B}sector/gen-{round_number}", Chunk()
    chunk.add(iri(sector), RDF + "type", iri(SKG + "Sector"))
    chunk.add(iri(sector), SKOS + "inScheme", iri(B + "scheme/sectors"))
    chunk.labels(iri(sector), f"Synthetic sector {round_number}", f"가상 분야 {round_number}")
    chunk.provenance(iri(sector))
    world.sectors.append(sector)
    return chunk


def city_chunk(world: World, round_number: int) -> Chunk:
    city, site, chunk = f"{B}city/gen-{round_number}", f"{B}site/gen-{round_number}", Chunk()
    chunk.add(iri(city), RDF + "type", iri(SKG + "PilotCity"))
    chunk.labels(iri(city), f"Synthetic city {round_number}", f"가상 도시 {round_number}")
    chunk.add(iri(city), SKG + "hasPilotSite", iri(site))
    chunk.provenance(iri(city))
    chunk.add(iri(site), RDF + "type", iri(SKG + "PilotSite"))
    chunk.labels(iri(site), f"Synthetic pilot site {round_number}", f"가상 시범지구 {round_number}")
    area = f"{world.rng.randrange(500, 5000) * 1000}.0"
    chunk.add(iri(site), SKG + "area", typed(area, "decimal"))
    chunk.add(iri(site), SKG + "publicImplementer", iri(MINISTRY))
    chunk.provenance(iri(site))
    world.cities.append(city)
    return chunk


def programme_chunk(world: World, round_number: int) -> Chunk:
    rng, programme, chunk = world.rng, f"{B}programme/gen-{round_number}", Chunk()
    (en, ko) = rng.choice(OBJECTS)
    chunk.add(iri(programme), RDF + "type", iri(SKG + "Programme"))
    chunk.labels(iri(programme), f"Synthetic programme {round_number}: {en}",
                 f"가상 사업 {round_number}: {ko}")  # fmt: skip
    if rng.random() < 0.2:
        chunk.add(iri(programme), DCT + "isPartOf", iri(rng.choice(world.programmes)))
    if rng.random() < 0.3:
        for city in sorted(set(rng.sample(world.cities, min(2, len(world.cities))))):
            chunk.add(iri(programme), DCT + "spatial", iri(city))
    chunk.provenance(iri(programme))
    world.programmes.append(programme)
    return chunk


def legal_chunks(round_number: int) -> Iterator[Chunk]:
    """An article of a synthetic act (the act itself first), its paragraphs and subparagraphs."""
    act_number, article_number = divmod(round_number - 1, ROUNDS_PER_ACT)
    act = f"{B}eli/kr/act/{2009 + act_number % 15}/{50000 + act_number}"
    if article_number == 0:
        chunk = Chunk()
        chunk.add(iri(act), RDF + "type", iri(ELI + "LegalResource"))
        chunk.labels(iri(act), f"Synthetic Act No. {50000 + act_number}",
                     f"가상 법률 제{50000 + act_number}호")  # fmt: skip
        chunk.add(iri(act), ELI + "id_local", typed(f"9{act_number:05d}", "string"))
        chunk.add(iri(act), ELI + "type_document", iri(B + "doctype/act"))
        chunk.add(iri(act), ELI + "date_publication", typed(notice_date(round_number), "date"))
        yield chunk
    article = f"{act}/art_{article_number + 1}"
    number = str(article_number + 1)
    yield subdivision_chunk(article, act, "article", number, f"Article {number}", f"제{number}조")
    for paragraph_number in (1, 2, 3):
        paragraph = f"{article}/par_{paragraph_number}"
        yield subdivision_chunk(paragraph, article, "paragraph", str(paragraph_number),
                                f"Article {article_number + 1}({paragraph_number})",
                                f"제{article_number + 1}조제{paragraph_number}항")  # fmt: skip
    for item in (1, 2, 3):
        yield subdivision_chunk(f"{article}/par_2/subpar_{item}", f"{article}/par_2",
                                "subparagraph", str(item),
                                f"Article {article_number + 1}(2), subparagraph {item}",
                                f"제{article_number + 1}조제2항제{item}호")  # fmt: skip


def subdivision_chunk(node: str, parent: str, kind: str, number: str, en: str, ko: str) -> Chunk:
    chunk = Chunk()
    chunk.add(iri(node), RDF + "type", iri(ELI + "LegalResourceSubdivision"))
    chunk.labels(iri(node), en, ko)
    chunk.add(iri(node), ELI + "type_subdivision", iri(f"{B}subdivision/{kind}"))
    chunk.add(iri(node), ELI + "number", typed(number, "string"))
    chunk.add(iri(node), ELI + "is_part_of", iri(parent))
    chunk.add(iri(parent), ELI + "has_part", iri(node))
    for code, lang, words in (("KOR", "ko", f"{ko}의 가상 조문"),
                              ("ENG", "en", f"Synthetic text of {en}.")):  # fmt: skip
        expression = f"{node}/2024-01-01/{code.lower()[:3]}"
        chunk.add(iri(node), ELI + "is_realized_by", iri(expression))
        chunk.add(iri(expression), RDF + "type", iri(ELI + "LegalExpression"))
        chunk.labels(iri(expression), f"{en}, {code} text", f"{ko} {code} 본문")
        chunk.add(iri(expression), ELI + "realizes", iri(node))
        chunk.add(iri(expression), ELI + "language", iri(LANGUAGE + code))
        chunk.add(iri(expression), ELI + "version_date", typed("2024-01-01", "date"))
        chunk.add(iri(expression), SKG + "provisionText", text(words, lang))
    return chunk


def notice_chunk(notice: str, round_number: int) -> Chunk:
    chunk, date = Chunk(), notice_date(round_number)
    chunk.add(iri(notice), RDF + "type", iri(SKG + "Notice"))
    chunk.labels(iri(notice), f"Synthetic notice of {date}", f"가상 고시 ({date})")
    chunk.add(iri(notice), ELI + "type_document", iri(B + "doctype/notice"))
    chunk.add(iri(notice), ELI + "date_document", typed(date, "date"))
    chunk.add(iri(notice), ELI + "passed_by", iri(MINISTRY))
    chunk.add(iri(notice), SKG + "legalBasis", iri(ARTICLE_19_4_PAR_1))
    chunk.provenance(iri(notice))
    return chunk


def institution_chunk(world: World, institution: str, notice: str, round_number: int, k: int):
    """An institution, its designation by `notice`, and for some an annotated classification."""
    rng, chunk, date = world.rng, Chunk(), notice_date(round_number)
    slug = institution.rsplit("/", 1)[1]
    (en, ko), body_type = rng.choice(OBJECTS), rng.choice(BODY_TYPES)
    chunk.add(iri(institution), RDF + "type", iri(ORG + "FormalOrganization"))
    chunk.add(iri(institution), RDF + "type", iri(SKG + "SupportingInstitution"))
    chunk.labels(iri(institution), f"Synthetic Institute {round_number}-{k} for {en}",
                 f"가상 {ko} 연구원 {round_number}-{k}")  # fmt: skip
    chunk.add(iri(institution), SKG + "acronym", f'"SI{round_number}-{k}"')
    chunk.add(iri(institution), ORG + "classification", iri(body_type))
    chunk.provenance(iri(institution), rng.choice(CONFIDENCE[:2]))
    designation = f"{B}designation/{slug}/{date}"
    chunk.add(iri(designation), RDF + "type", iri(SKG + "Designation"))
    chunk.labels(iri(designation), f"Designation of SI{round_number}-{k} ({date})",
                 f"SI{round_number}-{k} 지원기관 지정 ({date})")  # fmt: skip
    chunk.add(iri(designation), ORG + "member", iri(institution))
    chunk.add(iri(designation), ORG + "organization", iri(B + "group/supporting-institutions"))
    chunk.add(iri(designation), ORG + "role", iri(B + "role/supporting-institution"))
    chunk.add(iri(designation), SKG + "designatedBy", iri(MINISTRY))
    chunk.add(iri(designation), SKG + "designationDate", typed(date, "date"))
    chunk.add(iri(designation), SKG + "legalBasis", iri(ARTICLE_19_4_PAR_1))
    chunk.add(iri(designation), DCT + "source", iri(notice))
    chunk.provenance(iri(designation))
    if rng.random() < 0.2:
        world.statements += 1
        statement = f"_:statement{world.statements}"
        chunk.add(statement, RDF + "type", iri(RDF + "Statement"))
        chunk.add(statement, RDF + "subject", iri(institution))
        chunk.add(statement, RDF + "predicate", iri(ORG + "classification"))
        chunk.add(statement, RDF + "object", iri(body_type))
        chunk.add(statement, SKG + "confidence", iri(CONFIDENCE[1]))
        chunk.add(statement, RDFS + "comment", text("Type of body inferred from the name.", "en"))
        chunk.add(statement, DCT + "source", iri(SOURCE))
    world.institutions.append(institution)
    return chunk


def task_chunk(world: World, institution: str, notice: str, bullet: int) -> Chunk:
    """A task of `institution` with one or two duty mappings, programmes, sectors, maybe a city."""
    rng, chunk = world.rng, Chunk()
    task = f"{B}task/{institution.rsplit('/', 1)[1]}/task-{bullet}"
    (verb_en, verb_ko), (object_en, object_ko) = rng.choice(ACTIVITIES), rng.choice(OBJECTS)
    label_en, label_ko = f"{verb_en} {object_en} ({bullet})", f"{object_ko} {verb_ko} ({bullet})"
    chunk.add(iri(task), RDF + "type", iri(SKG + "AssignedTask"))
    chunk.labels(iri(task), label_en, label_ko)
    chunk.add(iri(task), SKG + "assignedTo", iri(institution))
    chunk.add(iri(task), SKG + "assignedByNotice", iri(notice))
    chunk.add(iri(task), SKG + "bulletNumber", typed(str(bullet), "positiveInteger"))
    chunk.add(iri(task), SKG + "sourceSentence", text(f"{label_en}, as the notice words it", "en"))
    for programme in sorted(set(rng.sample(world.programmes, rng.choice((0, 1, 1, 2))))):
        chunk.add(iri(task), SKG + "inProgramme", iri(programme))
    for sector in sorted(set(rng.sample(world.sectors, rng.choice((0, 1, 1, 2))))):
        chunk.add(iri(task), SKG + "concernsSector", iri(sector))
    if rng.random() < 0.1:
        chunk.add(iri(task), SKG + "limitedToCity", iri(rng.choice(world.cities)))
    chunk.provenance(iri(task), rng.choice(CONFIDENCE[:2]))
    for duty in sorted(set(rng.sample(DUTIES, rng.choice((1, 1, 2))))):
        number = duty.rsplit("-", 1)[1]
        mapping = f"{task}#duty-{number}"
        chunk.add(iri(task), SKG + "servesDuty", iri(duty))
        chunk.add(iri(task), SKG + "qualifiedDutyMapping", iri(mapping))
        chunk.add(iri(mapping), RDF + "type", iri(SKG + "DutyMapping"))
        chunk.labels(iri(mapping), f"{label_en} → duty {number}", f"{label_ko} → 제{number}호")
        chunk.add(iri(mapping), SKG + "mappedDuty", iri(duty))
        ambiguous = "true" if rng.random() < 0.25 else "false"
        chunk.add(iri(mapping), SKG + "isAmbiguous", typed(ambiguous, "boolean"))
        chunk.add(iri(mapping), SKG + "mappingReason",
                  text(f"{verb_en} {object_en} reads as subparagraph {number}.", "en"))  # fmt: skip
        chunk.add(iri(mapping), SKG + "mappingReason",
                  text(f"{object_ko} {verb_ko}은 제{number}호로 읽었다.", "ko"))  # fmt: skip
    return chunk


@dataclass(frozen=True)
class Generated:
    """What `generate` wrote: the data files (packaged copies first) and their triple count."""

    files: tuple[Path, ...]
    triples: int


def packaged_triples() -> int:
    """Count the triples of the packaged data files."""
    return sum(sum(1 for _ in ox.parse(path=str(p), format=ox.RdfFormat.TURTLE))
               for p in turtle_files("data"))  # fmt: skip


def generate(triples: int, seed: int, output: Path) -> Generated:
    """Write the packaged data and `synthetic.nt` to `output`, about `triples` triples in all."""
    output.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in turtle_files("data"):
        copies.append(output / f"packaged-{path.name}")
        shutil.copyfile(path, copies[-1])
    written, wanted = packaged_triples(), triples
    synthetic = output / "synthetic.nt"
    with synthetic.open("w", encoding="utf-8") as out:
        for chunk in chunks(seed):
            if written >= wanted:
                break
            out.writelines(chunk.lines)
            written += len(chunk.lines)
    return Generated((*copies, synthetic), written)


def data_files(folder: Path) -> list[Path]:
    """Return the data files `generate` wrote to `folder`, in a stable order."""
    return [*sorted(folder.glob("packaged-*.ttl")), folder / "synthetic.nt"]


def parse_size(value: str) -> int:
    """Read 10k, 100k, 1m or a plain number of triples."""
    value = value.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(value[-1:], 1)
    return int(float(value.rstrip("km")) * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=parse_size, required=True, help="e.g. 10k, 100k, 1m")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, required=True, help="folder to write")
    args = parser.parse_args()
    result = generate(args.triples, args.seed, args.output)
    print(f"{result.triples} triples in {len(result.files)} files under {args.output}")


if __name__ == "__main__":
    main()
