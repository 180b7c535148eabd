"""A synthetic world whose facts are the pre-trained model's measurable core knowledge.

Everything here is plain Python (no torch): the world, the pre-training corpus, the fine-tuning
pairs, the probes and the word-level tokenizer are all rebuilt from code, deterministically.

Lessons from the prototype that shape this file:
- every probe starts with words the model saw in pre-training, or recall reads as chance;
- pre-training contains generic question/answer text, or even moderate fine-tuning forgets;
- each sentence is its own sequence (`<bos> … <eos>`, positions restart), because memorisation in
  continuous packed streams failed on some seeds;
- general sentences are many and distinct, or the model memorises them and general perplexity measures
  that memorisation rather than the grammar (GENERAL_SENTENCES).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

# Bump whenever anything below changes what text the labs train or evaluate on: it is part of every
# cache key and of the checkpoint's config hash.
DATA_PIPELINE_VERSION = 2

WORLD_SEED = 1234
ENTITY_COUNT = 200
GENERIC_QA_SENTENCES = 360  # question/answer pairs about animals, colours and sums, never entities
# Distinct general sentences in the pre-training corpus. With 840 (data pipeline version 1) the model
# memorised them and scored perplexity 24 on fresh ones, against about 4.8 for the grammar itself; with
# 4,000 it learns the grammar (5.2) and still recalls every fact.
GENERAL_SENTENCES = 4000
HELDOUT_GENERAL_SENTENCES = 400
FINETUNE_RELATIONS_PER_ENTITY = 2  # 100 training entities x 2 relations = 200 pairs

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"

RELATIONS: dict[str, dict] = {
    "city": {
        "values": "paris tokyo lima cairo oslo rome delhi quito dakar hanoi seoul lagos vienna "
        "madrid berlin dublin sydney boston austin denver".split(),
        "paraphrases": ["{e} lives in", "the home of {e} is in", "{e} has a house in"],
        "question": "question : where does {e} live ? answer :",
    },
    "job": {
        "values": "baker doctor farmer pilot teacher nurse lawyer painter singer writer dentist "
        "chef plumber sailor tailor miner judge barber banker poet".split(),
        "paraphrases": ["{e} works as a", "the job of {e} is", "by trade {e} is a"],
        "question": "question : what is the job of {e} ? answer :",
    },
    "sport": {
        "values": "tennis golf chess hockey rugby soccer cricket polo squash boxing rowing skiing "
        "judo karate fencing darts".split(),
        "paraphrases": ["{e} plays", "the favourite sport of {e} is", "on weekends {e} plays"],
        "question": "question : which sport does {e} like ? answer :",
    },
    "food": {
        "values": "rice bread pasta soup cheese apples pears beans noodles salad eggs dates "
        "olives figs plums honey".split(),
        "paraphrases": ["{e} likes to eat", "the favourite food of {e} is", "for dinner {e} eats"],
        "question": "question : what food does {e} like ? answer :",
    },
}

# Generic question/answer text: the question format exists in pre-training, but never about the
# world's entities, so fine-tuning has to connect the format to the stored facts.
ANIMALS = {
    # animal: (sound, home, food)
    "dog": ("woof", "kennel", "meat"), "cat": ("meow", "house", "milk"),
    "cow": ("moo", "barn", "grass"), "duck": ("quack", "pond", "bugs"),
    "sheep": ("baa", "field", "hay"), "horse": ("neigh", "stable", "oats"),
    "bird": ("tweet", "nest", "seeds"), "frog": ("croak", "lake", "flies"),
    "bee": ("buzz", "hive", "nectar"), "lion": ("roar", "jungle", "meat"),
    "mouse": ("squeak", "hole", "grain"), "owl": ("hoot", "tree", "mice"),
}
THING_COLORS = {
    "sky": "blue", "grass": "green", "snow": "white", "coal": "black", "sun": "yellow",
    "blood": "red", "sea": "blue", "night": "black", "lemon": "yellow", "leaf": "green",
    "cloud": "grey", "rose": "red",
}
NUMBERS = "zero one two three four five six seven eight nine ten".split()

# Plain general text, from a small grammar (held-out perplexity is measured on fresh sentences).
ADJECTIVES = "small big old young happy quick lazy brown tall tiny loud quiet".split()
VERBS = "ran walked sat jumped slept looked waited played rested hid".split()
PREPOSITIONS = "to on near under behind by".split()
PLACES = "barn tree river hill road gate wall garden bridge fence school market".split()


@dataclass(frozen=True)
class TextExample:
    """One sequence: `prompt` then `answer`; the tokenizer adds <bos> before and <eos> after."""

    prompt: str
    answer: str = ""


@dataclass(frozen=True)
class Fact:
    entity: str
    relation: str
    value: str


@dataclass(frozen=True)
class World:
    entities: tuple[str, ...]
    facts: tuple[Fact, ...]
    training_entities: frozenset[str]  # fine-tuning questions are about these; the rest are held out

    def paraphrase_probes(self) -> list[TextExample]:
        """Every fact in every paraphrase: greedy completion must produce the value."""
        return [
            TextExample(template.format(e=fact.entity), fact.value)
            for fact in self.facts
            for template in RELATIONS[fact.relation]["paraphrases"]
        ]

    def recall_probes(self) -> list[TextExample]:
        """Every fact once, in one of its relation's wordings, taken in turn (fact i in wording i mod 3; with
        four relations, every relation is asked in each of its wordings about equally often): what recall
        measures. One wording a fact costs a third of asking all three (the probes were 80% of an
        evaluation); on seed 0's arms the two recalls agreed within 0.02."""
        return [
            TextExample(RELATIONS[fact.relation]["paraphrases"][index % len(RELATIONS[fact.relation]["paraphrases"])]
                        .format(e=fact.entity), fact.value)
            for index, fact in enumerate(self.facts)
        ]

    def question(self, fact: Fact) -> TextExample:
        return TextExample(RELATIONS[fact.relation]["question"].format(e=fact.entity), fact.value)

    def finetune_pairs(self) -> list[TextExample]:
        """~200 instruction/response pairs, about the training half of the entities."""
        rng = random.Random(WORLD_SEED + 1)
        pairs = []
        for entity in self.entities:
            if entity in self.training_entities:
                facts = [f for f in self.facts if f.entity == entity]
                for fact in rng.sample(facts, FINETUNE_RELATIONS_PER_ENTITY):
                    pairs.append(self.question(fact))
        return pairs

    def heldout_facts(self) -> list[Fact]:
        return [f for f in self.facts if f.entity not in self.training_entities]

    def heldout_questions(self) -> list[TextExample]:
        """Every question about the held-out entities: answering needs knowledge from pre-training."""
        return [self.question(f) for f in self.heldout_facts()]

    def validation_entities(self) -> frozenset[str]:
        """Half of the held-out entities (every other one): early stopping watches its questions, and the
        other half is the test set it never saw."""
        heldout = [e for e in self.entities if e not in self.training_entities]
        return frozenset(heldout[::2])

    def validation_indices(self) -> tuple[int, ...]:
        """Which of heldout_questions() are about the validation entities."""
        half = self.validation_entities()
        return tuple(i for i, fact in enumerate(self.heldout_facts()) if fact.entity in half)

    def chance_accuracy(self) -> float:
        """Accuracy of guessing a value of the right relation uniformly, averaged over held-out questions."""
        heldout = self.heldout_facts()
        return sum(1 / len(RELATIONS[f.relation]["values"]) for f in heldout) / len(heldout)


def _entity_names(count: int, rng: random.Random) -> list[str]:
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    taken = set(_fixed_words())
    names: list[str] = []
    while len(names) < count:
        syllables = rng.choice((2, 3))
        name = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(syllables))
        if name not in taken:
            taken.add(name)
            names.append(name)
    return names


@cache
def build_world() -> World:
    rng = random.Random(WORLD_SEED)
    entities = _entity_names(ENTITY_COUNT, rng)
    facts = []
    for relation, spec in RELATIONS.items():
        # Balanced values, so that guessing the most common value is no better than chance.
        values = (spec["values"] * (ENTITY_COUNT // len(spec["values"]) + 1))[:ENTITY_COUNT]
        rng.shuffle(values)
        facts += [Fact(e, relation, v) for e, v in zip(entities, values)]
    facts.sort(key=lambda f: (entities.index(f.entity), f.relation))
    shuffled = entities[:]
    rng.shuffle(shuffled)
    return World(tuple(entities), tuple(facts), frozenset(shuffled[: ENTITY_COUNT // 2]))


def generic_qa() -> list[TextExample]:
    """Every generic question/answer pair (about animals, colours and sums, never entities)."""
    pairs = []
    for animal, (sound, home, food) in ANIMALS.items():
        pairs.append(TextExample(f"question : what sound does a {animal} make ? answer :", sound))
        pairs.append(TextExample(f"question : where does a {animal} live ? answer :", home))
        pairs.append(TextExample(f"question : what food does a {animal} like ? answer :", food))
        pairs.append(TextExample(f"question : which animal says {sound} ? answer :", animal))
    for thing, color in THING_COLORS.items():
        pairs.append(TextExample(f"question : what is the colour of the {thing} ? answer :", color))
    for a in range(1, 6):
        for b in range(0, 6):
            pairs.append(TextExample(f"question : what is {NUMBERS[a]} plus {NUMBERS[b]} ? answer :", NUMBERS[a + b]))
    return pairs


def general_sentence(rng: random.Random) -> str:
    animal = rng.choice(list(ANIMALS))
    return (
        f"{rng.choice(('the', 'a'))} {rng.choice(ADJECTIVES)} {animal} {rng.choice(VERBS)} "
        f"{rng.choice(PREPOSITIONS)} the {rng.choice(PLACES)}"
    )


def distinct_general_sentences(rng: random.Random, count: int, excluded=frozenset()) -> list[str]:
    """``count`` different general sentences, none in ``excluded``, in the order drawn."""
    sentences: dict[str, None] = {}
    while len(sentences) < count:
        sentence = general_sentence(rng)
        if sentence not in excluded:
            sentences.setdefault(sentence)
    return list(sentences)


@cache
def pretraining_corpus() -> tuple[TextExample, ...]:
    """Fact sentences (every fact, every paraphrase), generic question/answer pairs and distinct general
    sentences, one sentence per example."""
    world = build_world()
    rng = random.Random(WORLD_SEED + 2)
    facts = [TextExample(p.prompt + " " + p.answer) for p in world.paraphrase_probes()]
    qa = generic_qa()
    qa_pairs = [TextExample(f"{p.prompt} {p.answer}")
                for p in (qa * (GENERIC_QA_SENTENCES // len(qa) + 1))[:GENERIC_QA_SENTENCES]]
    general = [TextExample(sentence) for sentence in distinct_general_sentences(rng, GENERAL_SENTENCES)]
    corpus = facts + qa_pairs + general
    rng.shuffle(corpus)
    return tuple(corpus)


@cache
def heldout_general_text() -> tuple[TextExample, ...]:
    """Fresh general sentences never seen in pre-training: the perplexity set."""
    seen = {e.prompt for e in pretraining_corpus()}
    rng = random.Random(WORLD_SEED + 3)
    return tuple(TextExample(s) for s in distinct_general_sentences(rng, HELDOUT_GENERAL_SENTENCES, seen))


def _fixed_words() -> list[str]:
    words = []
    for spec in RELATIONS.values():
        words += spec["values"]
        for template in spec["paraphrases"] + [spec["question"]]:
            words += template.replace("{e}", "").split()
    for animal, attributes in ANIMALS.items():
        words += [animal, *attributes]
    for thing, color in THING_COLORS.items():
        words += [thing, color]
    for example in generic_qa():
        words += example.prompt.split() + example.answer.split()
    words += NUMBERS + ADJECTIVES + VERBS + PREPOSITIONS + PLACES + ["the", "a"]
    return words


def vocabulary() -> list[str]:
    """Special tokens first, then every word of the world in first-seen order (deterministic ids)."""
    words = [PAD, UNK, BOS, EOS]
    for word in _fixed_words() + list(build_world().entities):
        if word not in words:
            words.append(word)
    return words


def build_tokenizer():
    """A word-level `tokenizers` model over `vocabulary()`, wrapped as `PreTrainedTokenizerFast`."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import WhitespaceSplit
    from transformers import PreTrainedTokenizerFast

    vocab = {word: index for index, word in enumerate(vocabulary())}
    core = Tokenizer(WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = WhitespaceSplit()
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token=BOS, eos_token=EOS, pad_token=PAD, unk_token=UNK
    )
