"""The marketplace's tables: suppliers and their household links, the catalog,
stock lots, and orders split per supplier.

Amounts are integer fen. Quantities are whole sales units (斤, kg, 箱 ...).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import str_enum, utcnow
from core.extensions import db


class SupplierType(enum.StrEnum):
    LEADING_ENTERPRISE = "leading_enterprise"  # 龙头企业
    COOPERATIVE = "cooperative"  # 农民专业合作社
    FAMILY_FARM = "family_farm"  # 家庭农场
    VILLAGE_COLLECTIVE = "village_collective"  # 村集体经济组织
    FARMER = "farmer"  # 农户


class SupplierStatus(enum.StrEnum):
    PENDING = "pending"  # 待审核
    APPROVED = "approved"  # 已认定
    REJECTED = "rejected"  # 未通过
    SUSPENDED = "suspended"  # 暂停


class Supplier(db.Model):
    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    type: Mapped[SupplierType] = mapped_column(str_enum(SupplierType))
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    licence_number: Mapped[str] = mapped_column(sa.String(40), unique=True)  # 统一社会信用代码
    contact_name: Mapped[str] = mapped_column(sa.String(40))
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[SupplierStatus] = mapped_column(
        str_enum(SupplierStatus), default=SupplierStatus.PENDING, server_default=SupplierStatus.PENDING.value,
        index=True,
    )
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accredited_at: Mapped[datetime | None]

    county = relationship("Region")
    members: Mapped[list[SupplierMember]] = relationship(back_populates="supplier")
    household_links: Mapped[list[HouseholdLink]] = relationship(back_populates="supplier")


class SupplierMember(db.Model):
    """A user working for a supplier; a user belongs to at most one supplier."""

    __tablename__ = "supplier_member"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="CASCADE"), index=True)
    is_owner: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    supplier: Mapped[Supplier] = relationship(back_populates="members")
    user = relationship("User")


class LinkType(enum.StrEnum):
    ORDER_PURCHASE = "order_purchase"  # 订单收购
    GUARANTEED_DIVIDEND = "guaranteed_dividend"  # 保底分红
    EMPLOYMENT = "employment"  # 吸纳就业
    LAND_TRANSFER = "land_transfer"  # 土地流转
    CONTRACT_FARMING = "contract_farming"  # 代种代收
    EQUITY_COOPERATION = "equity_cooperation"  # 股份合作


class LinkStatus(enum.StrEnum):
    ACTIVE = "active"
    CHALLENGED = "challenged"  # an administrator questions the link; it does not attribute until cleared
    ENDED = "ended"


class HouseholdLink(db.Model):
    """联农带农: a supplier declares a registry household it is bound to.

    ``benefit_share_bp`` is the household's share of the supplier's sales, in
    basis points (1/10000), used by benefit attribution.
    """

    __tablename__ = "household_link"
    __table_args__ = (
        sa.CheckConstraint("benefit_share_bp > 0 AND benefit_share_bp <= 10000", name="benefit_share_range"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="ends_after_start"),
        # One live link per supplier and household; ended links stay for history.
        sa.Index(
            "uq_household_link_live", "supplier_id", "household_id", unique=True,
            postgresql_where=sa.text("status <> 'ended'"), sqlite_where=sa.text("status <> 'ended'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="RESTRICT"), index=True)
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id", ondelete="RESTRICT"), index=True)
    link_type: Mapped[LinkType] = mapped_column(str_enum(LinkType))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    benefit_share_bp: Mapped[int]
    status: Mapped[LinkStatus] = mapped_column(
        str_enum(LinkStatus), default=LinkStatus.ACTIVE, server_default=LinkStatus.ACTIVE.value
    )
    challenge_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    supplier: Mapped[Supplier] = relationship(back_populates="household_links")
    household = relationship("Household")


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(40))  # Chinese name, shown as is
    name_en: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(default=0, server_default="0")

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Certification(enum.StrEnum):
    GREEN = "green"  # 绿色食品
    ORGANIC = "organic"  # 有机产品
    GEOGRAPHICAL_INDICATION = "geo_indication"  # 地理标志


class ProductStatus(enum.StrEnum):
    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"  # 待审核
    LISTED = "listed"  # 已上架
    REJECTED = "rejected"
    DELISTED = "delisted"  # 已下架


class Product(db.Model):
    __tablename__ = "product"
    __table_args__ = (
        sa.CheckConstraint("price_fen > 0", name="price_positive"),
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("min_order_qty >= 1", name="min_order_qty_positive"),
        sa.CheckConstraint("shelf_life_days > 0", name="shelf_life_positive"),
        # Bit m-1 set = harvested in month m (so "in season" is one bitwise test).
        sa.CheckConstraint("harvest_months >= 0 AND harvest_months < 4096", name="harvest_months_mask"),
        sa.Index("ix_product_status_category", "status", "category_id"),
        # Catalog sorting within a category and "new arrivals" read these instead of scanning.
        sa.Index("ix_product_catalog_price", "status", "category_id", "price_fen"),
        sa.Index("ix_product_catalog_listed_at", "status", "listed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="RESTRICT"), index=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("category.id", ondelete="RESTRICT"), index=True)
    origin_village_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    # The origin county, kept beside the village for facets and warnings by county.
    origin_county_id: Mapped[int] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    sales_unit: Mapped[str] = mapped_column(sa.String(10))  # 斤, kg, 箱, 袋 ...
    specification: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")  # 5kg/箱
    price_fen: Mapped[int]
    stock: Mapped[int] = mapped_column(default=0, server_default="0")
    min_order_qty: Mapped[int] = mapped_column(default=1, server_default="1")
    shelf_life_days: Mapped[int]
    harvest_months: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[ProductStatus] = mapped_column(
        str_enum(ProductStatus), default=ProductStatus.DRAFT, server_default=ProductStatus.DRAFT.value
    )
    review_note: Mapped[str | None] = mapped_column(sa.Text)
    is_urgent_sale: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # set by alerts
    sold_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    listed_at: Mapped[datetime | None]

    supplier: Mapped[Supplier] = relationship()
    category: Mapped[Category] = relationship()
    origin_village = relationship("Region", foreign_keys=[origin_village_id])
    origin_county = relationship("Region", foreign_keys=[origin_county_id])
    certifications: Mapped[list[ProductCertification]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )
    lots: Mapped[list[ProductLot]] = relationship(back_populates="product", cascade="all, delete-orphan")
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="(ProductImage.position, ProductImage.id)"
    )
    price_evidence: Mapped[list[PriceEvidence]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="PriceEvidence.id"
    )

    def in_season(self, month: int) -> bool:
        return bool(self.harvest_months & (1 << (month - 1)))


class ProductCertification(db.Model):
    __tablename__ = "product_certification"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[Certification] = mapped_column(str_enum(Certification), primary_key=True)
    certificate_number: Mapped[str] = mapped_column(sa.String(60), default="", server_default="")

    product: Mapped[Product] = relationship(back_populates="certifications")


class ProductLot(db.Model):
    """Perishable stock by harvest or production date; sold first-expiring first."""

    __tablename__ = "product_lot"
    __table_args__ = (
        sa.CheckConstraint("remaining >= 0 AND remaining <= quantity", name="remaining_within_quantity"),
        sa.CheckConstraint("expires_on >= produced_on", name="expires_after_production"),
        sa.Index("ix_product_lot_fefo", "product_id", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    remaining: Mapped[int]
    produced_on: Mapped[date]
    expires_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="lots")


class OrderKind(enum.StrEnum):
    CONSUMER = "consumer"  # 个人消费
    PROCUREMENT = "procurement"  # 单位采购 (the procurement domain adds its own record beside it)


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    RECEIVED = "received"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"


class Order(db.Model):
    """One checkout. It is split into one sub-order per supplier."""

    __tablename__ = "shop_order"
    __table_args__ = (
        sa.CheckConstraint("total_fen >= 0", name="total_not_negative"),
        sa.UniqueConstraint("buyer_id", "idempotency_key", name="uq_shop_order_idempotency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    kind: Mapped[OrderKind] = mapped_column(str_enum(OrderKind), default=OrderKind.CONSUMER,
                                            server_default=OrderKind.CONSUMER.value)
    buyer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"), index=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    total_fen: Mapped[int]
    recipient_name: Mapped[str] = mapped_column(sa.String(40))
    recipient_phone: Mapped[str] = mapped_column(sa.String(20))
    address: Mapped[str] = mapped_column(sa.String(255))
    address_region_id: Mapped[int | None] = mapped_column(sa.ForeignKey("region.id", ondelete="RESTRICT"))
    # 帮助销售: the promotion code the buyer arrived with. Opaque to the shop;
    # the procurement domain resolves it to the unit that handed it out.
    referral_code: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    payment_due_at: Mapped[datetime | None]

    sub_orders: Mapped[list[SubOrder]] = relationship(back_populates="order", cascade="all, delete-orphan")
    buyer = relationship("User")


class SubOrder(db.Model):
    """The part of an order one supplier fulfils; it carries the order's life."""

    __tablename__ = "sub_order"
    __table_args__ = (sa.CheckConstraint("subtotal_fen >= 0", name="subtotal_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="RESTRICT"), index=True)
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus), default=OrderStatus.PENDING_PAYMENT,
        server_default=OrderStatus.PENDING_PAYMENT.value, index=True,
    )
    subtotal_fen: Mapped[int]
    carrier: Mapped[str | None] = mapped_column(sa.String(40))
    tracking_number: Mapped[str | None] = mapped_column(sa.String(60))
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    cancelled_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="sub_orders")
    supplier: Mapped[Supplier] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(back_populates="sub_order", cascade="all, delete-orphan")


class OrderLine(db.Model):
    """A product bought, with its price snapshotted at checkout."""

    __tablename__ = "order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_fen > 0", name="unit_price_positive"),
        sa.CheckConstraint("amount_fen = quantity * unit_price_fen", name="amount_is_quantity_times_price"),
        sa.CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refund_within_quantity"),
        sa.Index("ix_order_line_product_created", "product_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sub_order_id: Mapped[int] = mapped_column(sa.ForeignKey("sub_order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="RESTRICT"))
    product_name: Mapped[str] = mapped_column(sa.String(120))
    quantity: Mapped[int]
    unit_price_fen: Mapped[int]
    amount_fen: Mapped[int]
    refunded_quantity: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sub_order: Mapped[SubOrder] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


# --- Added with the supplier workspace, product review and catalog --------------------------


class SupplierInvitation(db.Model):
    """An owner invites a person by e-mail; whoever logs in with that address may accept.

    Nothing tells the inviter whether the address has an account, so invitations
    cannot be used to probe for accounts.
    """

    __tablename__ = "supplier_invitation"
    __table_args__ = (
        # One open invitation per supplier and address; accepted or cancelled ones stay as history.
        sa.Index(
            "uq_supplier_invitation_open", "supplier_id", "email", unique=True,
            postgresql_where=sa.text("accepted_at IS NULL AND cancelled_at IS NULL"),
            sqlite_where=sa.text("accepted_at IS NULL AND cancelled_at IS NULL"),
        ),
        sa.Index("ix_supplier_invitation_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("supplier.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]

    supplier: Mapped[Supplier] = relationship()


class ProductImage(db.Model):
    """A product photo, re-encoded by the shop: ``<key>.jpg`` (≤1200px) and ``<key>_thumb.jpg`` (≤400px)."""

    __tablename__ = "product_image"
    __table_args__ = (
        sa.CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        sa.CheckConstraint("length(alt_text) > 0", name="alt_text_present"),
        sa.Index("ix_product_image_product_position", "product_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"))
    storage_key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    alt_text: Mapped[str] = mapped_column(sa.String(200))
    width: Mapped[int]
    height: Mapped[int]
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")

    @property
    def filename(self) -> str:
        return f"{self.storage_key}.jpg"

    @property
    def thumb_filename(self) -> str:
        return f"{self.storage_key}_thumb.jpg"


class EvidenceKind(enum.StrEnum):
    LINK = "link"  # 同款商品链接
    CONTRACT = "contract"  # 购销合同
    INVOICE = "invoice"  # 发票


class PriceEvidence(db.Model):
    """Why the price is fair (价格佐证): the same product elsewhere, or a contract or invoice."""

    __tablename__ = "price_evidence"
    __table_args__ = (
        sa.CheckConstraint("reference_price_fen > 0", name="reference_price_positive"),
        sa.CheckConstraint(
            "(kind = 'link' AND url IS NOT NULL AND document_key IS NULL)"
            " OR (kind <> 'link' AND document_key IS NOT NULL AND url IS NULL)",
            name="link_or_document",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EvidenceKind] = mapped_column(str_enum(EvidenceKind))
    url: Mapped[str | None] = mapped_column(sa.String(500))
    # A stored upload: ``<key>.pdf`` or ``<key>.jpg`` in the private evidence folder.
    document_key: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    document_name: Mapped[str | None] = mapped_column(sa.String(120))  # the uploader's file name, for display
    reference_price_fen: Mapped[int]
    note: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship(back_populates="price_evidence")


