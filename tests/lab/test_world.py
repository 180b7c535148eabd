"""The synthetic world and its corpus: deterministic, and shaped by the prototype's pitfalls."""

from __future__ import annotations

from collections import Counter

from quizgen.lab import world


def test_the_world_is_rebuilt_identically():
    assert world.pretraining_corpus() == world.pretraining_corpus.__wrapped__()
    assert world.build_world() == world.build_world.__wrapped__()


def test_sizes_follow_the_prototype():
    the_world = world.build_world()
    assert len(the_world.entities) == 200 and len(the_world.facts) == 800
    assert len(the_world.paraphrase_probes()) == 2400  # every fact, three paraphrases
    corpus = world.pretraining_corpus()
    assert len(corpus) == 2400 + world.GENERIC_QA_SENTENCES + world.GENERAL_SENTENCES == 6760
    questions = sum(e.prompt.startswith("question :") for e in corpus)
    assert questions == world.GENERIC_QA_SENTENCES
    facts = {f"{p.prompt} {p.answer}" for p in the_world.paraphrase_probes()}
    general = [e.prompt for e in corpus if e.prompt not in facts and not e.prompt.startswith("question :")]
    # distinct general sentences: repeated ones would be memorised rather than teach the grammar
    assert len(general) == len(set(general)) == world.GENERAL_SENTENCES
    assert 350 <= len(world.vocabulary()) <= 450


def test_recall_asks_every_fact_once_in_each_wording_about_equally_often():
    the_world = world.build_world()
    probes = the_world.recall_probes()
    assert [probe.answer for probe in probes] == [fact.value for fact in the_world.facts]  # every fact, once
    assert set(probes) <= set(the_world.paraphrase_probes())  # in one of its pre-trained wordings
    asked = Counter((fact.relation, world.RELATIONS[fact.relation]["paraphrases"].index(probe.prompt.replace(
        fact.entity, "{e}"))) for fact, probe in zip(the_world.facts, probes))
    assert len(asked) == 4 * 3 and max(asked.values()) - min(asked.values()) <= 2  # each relation in all 3


def test_every_word_a_probe_or_question_uses_was_seen_in_pretraining():
    seen = {word for example in world.pretraining_corpus() for word in example.prompt.split()}
    the_world = world.build_world()
    probes = the_world.paraphrase_probes() + the_world.finetune_pairs() + the_world.heldout_questions()
    for example in probes + list(world.heldout_general_text()):
        assert set(example.prompt.split() + example.answer.split()) <= seen, example


def test_finetuning_pairs_cover_half_the_entities_and_held_out_questions_the_other_half():
    the_world = world.build_world()
    pairs, heldout = the_world.finetune_pairs(), the_world.heldout_questions()
    assert len(pairs) == 200 and len(heldout) == 400
    asked = {word for p in pairs for word in p.prompt.split()} & set(the_world.entities)
    held = {word for p in heldout for word in p.prompt.split()} & set(the_world.entities)
    assert asked == set(the_world.training_entities) and len(asked) == 100
    assert not asked & held


def test_entity_facts_never_appear_as_questions_in_pretraining():
    entities = set(world.build_world().entities)
    for example in world.pretraining_corpus():
        if example.prompt.startswith("question :"):
            assert not set(example.prompt.split()) & entities


def test_values_are_balanced_so_guessing_the_commonest_is_chance():
    the_world = world.build_world()
    for relation, spec in world.RELATIONS.items():
        counts = Counter(f.value for f in the_world.facts if f.relation == relation)
        assert max(counts.values()) - min(counts.values()) <= 1
    assert 0.05 <= the_world.chance_accuracy() <= 0.065


def test_heldout_general_text_is_new():
    seen = {e.prompt for e in world.pretraining_corpus()}
    assert not seen & {e.prompt for e in world.heldout_general_text()}


def test_tokenizer_is_word_level_over_the_whole_vocabulary():
    tokenizer = world.build_tokenizer()
    assert len(tokenizer) == len(world.vocabulary())
    ids = tokenizer("question : where does a dog live ? answer : kennel", add_special_tokens=False)["input_ids"]
    assert len(ids) == 11 and tokenizer.unk_token_id not in ids  # one id per word
