"""Pairwise precision and recall of identity resolution against a ground truth.

A pair is two identifiers. Predicted pairs share a profile_id; true pairs share a
person_id. Identifiers the resolver dropped (guards) count as singletons, so they cost
recall; identifiers outside the truth (junk) are left out of both sides.

An identifier the truth gives to more than one person (a household's shared e-mail) can
only ever sit in one profile, so every resolver would be charged for it on both sides;
such identifiers are left out of the pairs and counted in `ambiguous_identifiers`.
Whether the people sharing it were kept apart shows in the pairs of their other
identifiers.

Counting is done per (profile, person) cell, so it is O(identifiers), not O(pairs):
TP = sum C(n_cell, 2), predicted = sum C(n_profile, 2), true = sum C(n_person, 2).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PairwiseScores:
    identifiers: int
    ambiguous_identifiers: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positive_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive_pairs / self.true_pairs if self.true_pairs else 1.0

    def one_line(self) -> str:
        return (
            f"identifiers={self.identifiers:,} ambiguous={self.ambiguous_identifiers:,} true_pairs={self.true_pairs:,} "
            f"predicted_pairs={self.predicted_pairs:,} precision={self.precision:.5f} recall={self.recall:.5f}"
        )


_SCORES_SQL = """
with truth as (
    select
        identifier_type,
        identifier_value,
        min(person_id) as person_id,
        count(distinct person_id) > 1 as is_ambiguous
    from {truth}
    group by identifier_type, identifier_value
),
scored as (
    select
        t.person_id,
        -- a dropped identifier is its own singleton profile
        coalesce(m.profile_id, 'unresolved:' || t.identifier_type || ':' || t.identifier_value) as profile_id
    from truth as t
    left join {identity_map} as m
        on m.identifier_type = t.identifier_type
        and m.identifier_value = t.identifier_value
    where not t.is_ambiguous
),
cells as (select profile_id, person_id, count(*) as n from scored group by 1, 2),
profiles as (select profile_id, count(*) as n from scored group by 1),
persons as (select person_id, count(*) as n from scored group by 1)
select
    (select count(*) from scored),
    (select count(*) from truth where is_ambiguous),
    (select coalesce(sum(n * (n - 1) / 2), 0) from persons),
    (select coalesce(sum(n * (n - 1) / 2), 0) from profiles),
    (select coalesce(sum(n * (n - 1) / 2), 0) from cells)
"""


def pairwise_scores(con, truth_relation: str, identity_map_relation: str) -> PairwiseScores:
    """Score `identity_map_relation` against `truth_relation` on a DuckDB connection.

    Both arguments are relation expressions chosen by the caller (a table name or a
    `read_parquet('...')` call built from a checked path), never end-user input.
    """
    row = con.execute(_SCORES_SQL.format(truth=truth_relation, identity_map=identity_map_relation)).fetchall()[0]
    return PairwiseScores(*(int(v) for v in row))
