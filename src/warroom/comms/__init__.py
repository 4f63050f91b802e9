"""Stakeholder communication: status updates on incidents, internal subscriptions, public and private status
pages with components and scheduled maintenance, page subscribers and feeds, and the outbox that delivers to
subscribers (who are not Warroom users, so they have no contact methods)."""
