"""Who receives an event: named by the domain app that records it, resolved to people at fan-out.

The domain knows that a gate's team hears its gate opened and a promise's owner its decision; this
app only turns users, teams (Django groups) and a customer's address into deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerAddress:
    """A recipient without an account: an e-mail address in the customer's language."""

    key: str  # stable per customer, part of the delivery key ("customer:7")
    email: str
    language: str


@dataclass(frozen=True)
class Recipients:
    user_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()
    group_names: tuple[str, ...] = ()
    customer: CustomerAddress | None = None
    # The person whose action caused the event does not need to be told about it.
    exclude_actor: bool = True

    def __or__(self, other: Recipients) -> Recipients:
        return Recipients(
            user_ids=tuple(dict.fromkeys((*self.user_ids, *other.user_ids))),
            team_ids=tuple(dict.fromkeys((*self.team_ids, *other.team_ids))),
            group_names=tuple(dict.fromkeys((*self.group_names, *other.group_names))),
            customer=self.customer or other.customer,
            exclude_actor=self.exclude_actor and other.exclude_actor,
        )

    def as_json(self) -> dict:
        data: dict = {"user_ids": list(self.user_ids), "team_ids": list(self.team_ids),
                      "group_names": list(self.group_names), "exclude_actor": self.exclude_actor}
        if self.customer is not None:
            data["customer"] = {"key": self.customer.key, "email": self.customer.email,
                                "language": self.customer.language}
        return data

    @classmethod
    def from_json(cls, data: dict) -> Recipients:
        customer = data.get("customer")
        return cls(
            user_ids=tuple(int(pk) for pk in data.get("user_ids", ())),
            team_ids=tuple(int(pk) for pk in data.get("team_ids", ())),
            group_names=tuple(str(name) for name in data.get("group_names", ())),
            customer=CustomerAddress(**customer) if customer else None,
            exclude_actor=bool(data.get("exclude_actor", True)),
        )

    @property
    def users_named(self) -> bool:
        return bool(self.user_ids or self.team_ids or self.group_names)
