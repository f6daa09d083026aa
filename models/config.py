"""The configuration of a model build: everything besides the data that determines it."""

from __future__ import annotations

from dataclasses import dataclass

from models.finetune import FineTuneConfig


@dataclass(frozen=True)
class BuildConfig:
    """Everything besides the data that determines a build."""

    folds: int = 5
    inner_folds: int = 5
    c_grid: tuple[float, ...] = (0.5, 2.0, 8.0)
    seed_weights: tuple[float, ...] = (1.0,)
    foreign_weights: tuple[float, ...] = (1.0, 0.3)
    seed: int = 0
    threads: int = 2
    dev_limit: int | None = None
    use_dev: bool = True
    extras: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("en", ("cues", "voice", "voice_direction")),
        ("multilingual", ("voice",)),
    )
    lexicons: tuple[tuple[str, str], ...] = (("en", "word"), ("multilingual", "char"))
    per_language_temperature: bool = True
    finetune: FineTuneConfig | None = None
    learning_curve: tuple[float, ...] = (0.25, 0.5, 0.75)
    char_min_df: int = 3
    char_max_terms: int = 4000
    min_temperature_rows: int = 20
    article_rules: tuple[str, ...] = ("korea_mention",)

    def describe(self) -> str:
        """One line naming the design (for the card's variant table)."""
        ft = self.finetune
        encoder = "frozen MiniLM"
        if ft is not None:
            encoder = (
                f"MiniLM fine-tuned (rank-{ft.rank} adapters in the top {ft.layers} layers,"
                f" {ft.epochs} epochs, seeds {list(ft.seeds)}, {ft.halves}-way cross-fit)"
            )
        rules = "; articles must name Korea" if "korea_mention" in self.article_rules else ""
        return f"{encoder} + USE, lexicons, cues and voice; C, weights and T chosen in the folds{rules}"

    def extras_of(self, head: str) -> tuple[str, ...]:
        """The extra feature blocks a head reads in this configuration."""
        return dict(self.extras).get(head, ())

    def analyzer(self, head: str) -> str | None:
        """The lexicon analyzer of a head in this configuration (None: no lexicon)."""
        return dict(self.lexicons).get(head)
