"""Post and agency models."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from osbp.extensions import db

AGENCY_KINDS = ("immigration", "customs", "health")


class Post(db.Model):
    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_a: Mapped[str] = mapped_column(String(120))
    name_b: Mapped[str] = mapped_column(String(120))
    country_a: Mapped[str] = mapped_column(String(2))
    country_b: Mapped[str] = mapped_column(String(2))
    default_locale: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Africa/Kigali")

    agencies: Mapped[list[Agency]] = relationship(back_populates="post", order_by="Agency.id")

    @property
    def countries(self) -> tuple[str, str]:
        return (self.country_a, self.country_b)

    @property
    def directions(self) -> tuple[str, str]:
        return (f"{self.country_a}-{self.country_b}", f"{self.country_b}-{self.country_a}")

    @property
    def name(self) -> str:
        return f"{self.name_a} / {self.name_b}"


class Agency(db.Model):
    """One country's immigration, customs or health service at a post."""

    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("post_id", "country", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120))

    post: Mapped[Post] = relationship(back_populates="agencies")

    @property
    def label(self) -> str:
        """What every page calls the agency: "CD Migration" (country and kind, translated), never its name's acronym."""
        from osbp.i18n import agency_label

        return agency_label(self)
