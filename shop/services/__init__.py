"""The marketplace's rules. Services add and flush, never commit; they raise DomainError subclasses.

One module per subject: ``suppliers`` (registration, members, accreditation),
``links`` (household links, 联农带农), ``products`` (listing, lots, photos, evidence),
``review`` (the product review state machine and price check),
``media`` (uploaded images and documents), ``imports`` (CSV/XLSX) and
``catalog`` (what buyers see).
"""
