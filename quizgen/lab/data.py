"""Text examples -> token sequences, and the padded tensors the loop and the metrics consume."""

from __future__ import annotations

from dataclasses import dataclass

from quizgen.lab import world


@dataclass(frozen=True)
class Sequence:
    """`<bos> prompt answer <eos>` as token ids; the response is `answer <eos>`."""

    ids: tuple[int, ...]
    prompt_len: int  # tokens before the response, <bos> included
    answer_len: int  # response tokens before <eos> (0 for plain text)


def encode(tokenizer, examples) -> list[Sequence]:
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
    examples = list(examples)
    if not examples:
        return []
    # One call for all prompts and one for all answers: a fast tokenizer encodes a list at once.
    prompts = tokenizer([example.prompt for example in examples], add_special_tokens=False)["input_ids"]
    # The leading space makes sub-word tokenizers split the answer as they would in running text.
    answered = [index for index, example in enumerate(examples) if example.answer]
    answers = dict(zip(answered, tokenizer([" " + examples[index].answer for index in answered],
                                           add_special_tokens=False)["input_ids"] if answered else []))
    sequences = []
    for index, prompt_ids in enumerate(prompts):
        prompt, answer = bos + list(prompt_ids), list(answers.get(index, []))
        sequences.append(Sequence(tuple(prompt + answer + eos), len(prompt), len(answer)))
    return sequences


def first_target(sequence: Sequence, loss_on: str) -> int:
    """Index of the first token the loss is taken on.

    loss_on="response" is the SFT objective −Σ log Pr(y|x): prompt tokens are masked.
    loss_on="all" takes every token except the first, which nothing predicts.
    """
    if loss_on == "response":
        return sequence.prompt_len
    if loss_on == "all":
        return 1
    raise ValueError(f"loss_on must be 'response' or 'all', not {loss_on!r}")


def _first_fit(order: list[Sequence], width: int) -> list[list[Sequence]]:
    """Rows of at most `width` tokens, each sequence in the first row with room (a new row if none)."""
    rows: list[list[Sequence]] = []
    room: list[int] = []
    for sequence in order:
        n = len(sequence.ids)
        row = next((r for r, free in enumerate(room) if free >= n), None)
        if row is None:
            rows.append([])
            room.append(width)
            row = len(rows) - 1
        rows[row].append(sequence)
        room[row] -= n
    return rows


def _spread(order: list[Sequence], count: int, width: int) -> list[list[Sequence]] | None:
    """The sequences over `count` rows, each into the emptiest row with room; None if one does not fit."""
    rows: list[list[Sequence]] = [[] for _ in range(count)]
    fill = [0] * count
    for sequence in order:
        n = len(sequence.ids)
        open_rows = [r for r in range(count) if fill[r] + n <= width]
        if not open_rows:
            return None
        row = min(open_rows, key=lambda r: fill[r])
        rows[row].append(sequence)
        fill[row] += n
    return rows


def _fullest(rows: list[list[Sequence]]) -> int:
    return max(sum(len(s.ids) for s in row) for row in rows)


def packed(sequences: list[Sequence], pad_id: int, loss_on: str, width: int = 64):
    """(input_ids, labels, position_ids): sequences packed into rows of `width` tokens.

    Positions restart at 0 for every sequence; transformers reads those restarts as sequence boundaries
    and masks attention block-diagonally, so each sentence is trained exactly as if it were alone, with
    little compute wasted on padding. Labels are -100 wherever no loss is taken.

    Rows are filled first-fit, longest sequence first, which gives as few rows as it can: a batch of 64
    question/answer pairs of 12–14 tokens takes 13–14 rows of 64 where filling them in order took 16. The
    same sequences are then spread over that many rows evenly (longest first, each into the emptiest row
    with room), because a step computes on every row's every position up to the fullest row: the lab's 16
    pairs (~205 tokens) took rows of 64, 64, 64 and 13 — 256 positions — and now take four rows of ~52. A
    sequence longer than `width` gets a row of its own.
    """
    import torch

    order = sorted(sequences, key=lambda s: len(s.ids), reverse=True)  # stable: ties keep their order
    first_fit = _first_fit(order, width)
    spread = _spread(order, len(first_fit), max(width, len(order[0].ids)))
    rows = spread if spread is not None and _fullest(spread) <= _fullest(first_fit) else first_fit
    width = _fullest(rows)
    input_ids, labels, position_ids = [], [], []
    for row in rows:
        ids, targets, positions = [], [], []
        for sequence in row:
            start = first_target(sequence, loss_on)
            ids += sequence.ids
            targets += [-100] * start + list(sequence.ids[start:])
            positions += range(len(sequence.ids))
        # The padding tail is a segment of its own, so no real token can attend to it.
        tail = width - len(ids)
        input_ids.append(ids + [pad_id] * tail)
        labels.append(targets + [-100] * tail)
        position_ids.append(positions + list(range(tail)))
    return tuple(torch.tensor(rows_, dtype=torch.long) for rows_ in (input_ids, labels, position_ids))


def padded(sequences: list[Sequence], pad_id: int):
    """(input_ids, attention_mask), one sequence per row, right-padded: for evaluation."""
    import torch

    width = max(len(s.ids) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        input_ids[row, : len(sequence.ids)] = torch.tensor(sequence.ids)
        attention_mask[row, : len(sequence.ids)] = 1
    return input_ids, attention_mask


@dataclass(frozen=True)
class LabData:
    """Everything a lab trains or evaluates on, tokenized for one model."""

    pretraining: list[Sequence]  # facts in every paraphrase, generic Q/A, general text; loss on all tokens
    recall_probes: list[Sequence]  # every fact once, its wordings in turn: the core knowledge
    finetune_train: list[Sequence]  # ~200 instruction/response pairs, training entities
    finetune_heldout: list[Sequence]  # the same questions about the held-out entities
    general_heldout: list[Sequence]  # fresh general text: the perplexity set
    chance_accuracy: float
    # Indices into finetune_heldout of the questions about half of the held-out people: a validation
    # split (early stopping); the other indices are its test split.
    validation: tuple[int, ...] = ()

    @property
    def test(self) -> tuple[int, ...]:
        chosen = set(self.validation)
        return tuple(i for i in range(len(self.finetune_heldout)) if i not in chosen)


def build_lab_data(tokenizer) -> LabData:
    the_world = world.build_world()
    return LabData(
        pretraining=encode(tokenizer, world.pretraining_corpus()),
        recall_probes=encode(tokenizer, the_world.recall_probes()),
        finetune_train=encode(tokenizer, the_world.finetune_pairs()),
        finetune_heldout=encode(tokenizer, the_world.heldout_questions()),
        general_heldout=encode(tokenizer, world.heldout_general_text()),
        chance_accuracy=the_world.chance_accuracy(),
        validation=the_world.validation_indices(),
    )
