-- The groups an invitation's account joins when it is made (names, space-separated).
ALTER TABLE invitations ADD COLUMN groups TEXT;
