-- Wrong codes are counted per address across accounts (issue M3): the count reads every
-- verification of one address made in the last day.
CREATE INDEX email_verifications_email ON email_verifications (email, created_at);

-- And mail per address (issue M2): no address is written more than a few mails an hour.
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
