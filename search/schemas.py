"""Request and response schemas of search, shared by the API and the page."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from search import labels
from search.backends.base import PRICE_BAND_KEYS, SORTS
from search.service import MAX_CURSOR_LENGTH, MAX_PER_PAGE, PER_PAGE, SUGGEST_LIMIT
from search.text import MAX_QUERY_LENGTH

_ID = validate.Range(min=1, max=2**31 - 1)


class SearchArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.Str(load_default="", validate=validate.Length(max=MAX_QUERY_LENGTH),
                   metadata={"description": "Words to find, Chinese or not; query syntax has no meaning here."})
    category = fields.Int(load_default=None, validate=_ID, metadata={"description": "Category (and its subcategories)"})
    region = fields.Int(load_default=None, validate=_ID,
                        metadata={"description": "Origin province, city or county (region id)"})
    certification = fields.Str(load_default=None, validate=validate.OneOf(list(labels.CERTIFICATION)))
    price = fields.Str(load_default=None, validate=validate.OneOf(PRICE_BAND_KEYS),
                       metadata={"description": "Price band"})
    supplier_type = fields.Str(load_default=None, validate=validate.OneOf(list(labels.SUPPLIER_TYPE)))
    in_season = fields.Bool(load_default=False, metadata={"description": "Harvested this month (Asia/Shanghai)"})
    key_county = fields.Bool(load_default=False, metadata={"description": "From a key assistance county"})
    urgent = fields.Bool(load_default=False, metadata={"description": "Under an open unsold-produce warning"})
    sort = fields.Str(load_default="relevance", validate=validate.OneOf(SORTS))
    cursor = fields.Str(load_default=None, validate=validate.Length(max=MAX_CURSOR_LENGTH),
                        metadata={"description": "next_cursor of the previous page"})
    per_page = fields.Int(load_default=PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class SuggestArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.Str(load_default="", validate=validate.Length(max=MAX_QUERY_LENGTH))
    limit = fields.Int(load_default=SUGGEST_LIMIT, validate=validate.Range(min=1, max=10))


class SegmentSchema(Schema):
    text = fields.Str()
    match = fields.Bool()


class HighlightsSchema(Schema):
    name = fields.List(fields.Nested(SegmentSchema))
    description = fields.List(fields.Nested(SegmentSchema))


class ValueLabelSchema(Schema):
    value = fields.Str()
    label = fields.Str()


class HitSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    url = fields.Str(allow_none=True, metadata={"description": "the shop's product page, when it serves one"})
    highlights = fields.Nested(HighlightsSchema)
    price_fen = fields.Int(metadata={"description": "price in fen (分)"})
    price = fields.Str(metadata={"description": "formatted price, ¥"})
    sales_unit = fields.Str()
    specification = fields.Str()
    stock = fields.Int()
    sold_quantity = fields.Int()
    category = fields.Dict()
    origin = fields.Dict(metadata={"description": "province, city and county names"})
    supplier = fields.Dict()
    certifications = fields.List(fields.Nested(ValueLabelSchema))
    is_key_assistance_county = fields.Bool()
    is_urgent_sale = fields.Bool()
    in_season = fields.Bool()
    score = fields.Float(allow_none=True)


class FacetValueSchema(Schema):
    value = fields.Str()
    label = fields.Str()
    count = fields.Int()
    selected = fields.Bool()


class TreeNodeSchema(Schema):
    id = fields.Int()
    name = fields.Str()
    level = fields.Str()
    count = fields.Int()
    selected = fields.Bool()
    children = fields.List(fields.Nested(lambda: TreeNodeSchema()))


class FlagFacetSchema(Schema):
    count = fields.Int()
    selected = fields.Bool()
    month = fields.Int()


class FacetsSchema(Schema):
    category = fields.List(fields.Nested(TreeNodeSchema))
    origin = fields.List(fields.Nested(TreeNodeSchema))
    certification = fields.List(fields.Nested(FacetValueSchema))
    price_band = fields.List(fields.Nested(FacetValueSchema))
    supplier_type = fields.List(fields.Nested(FacetValueSchema))
    in_season = fields.Nested(FlagFacetSchema)
    key_assistance_county = fields.Nested(FlagFacetSchema)
    urgent_sale = fields.Nested(FlagFacetSchema)


class SuggestionSchema(Schema):
    text = fields.Str()
    kind = fields.Str(metadata={"description": "product, category or place"})
    label = fields.Str()
    url = fields.Str()


class SearchResultSchema(Schema):
    query = fields.Str()
    terms = fields.List(fields.Str(), metadata={"description": "what was searched, after normalisation"})
    sort = fields.Str()
    total = fields.Int()
    hits = fields.List(fields.Nested(HitSchema))
    facets = fields.Nested(FacetsSchema)
    next_cursor = fields.Str(allow_none=True)
    did_you_mean = fields.Str(allow_none=True)
    suggestions = fields.List(fields.Nested(SuggestionSchema))
    related = fields.List(fields.Nested(HitSchema), metadata={"description": "when nothing matched: similar products"})
    backend = fields.Str()


class SuggestResultSchema(Schema):
    query = fields.Str()
    suggestions = fields.List(fields.Nested(SuggestionSchema))
