"""Payment providers behind one interface.

``manual`` (bank transfer, 对公转账, confirmed by a person) is always there;
``stripe`` (Checkout) is there when STRIPE_SECRET_KEY is set. An order is
marked paid only by a verified Stripe webhook or a confirmed transfer — never
by the buyer's browser coming back to the site.
"""
