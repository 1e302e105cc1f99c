-- The network each sign-in was made from, so that two sign-ins of one device kind ("Safari on
-- iPhone") can be told apart in the list of sign-ins (engine/src/sign_in/list.rs): the client's
-- /24 for IPv4 and /48 for IPv6, never the whole address. NULL for sign-ins made before this was
-- recorded, and for an app's sign-in (its server redeems the code).
ALTER TABLE sign_ins ADD COLUMN network TEXT;
