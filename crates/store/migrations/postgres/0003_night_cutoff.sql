-- The night cut-off of the guides (issue 13): a daily window, in the service's time zone, in
-- which a revocation's cool-down lasts until the window's end. Both NULL: no window.
-- `night_cutoff` is 'HH:MM-HH:MM' (e.g. '20:50-08:10'), `night_cutoff_zone` an IANA zone
-- name (e.g. 'Asia/Tokyo'); they are set together.
ALTER TABLE services ADD COLUMN night_cutoff TEXT;
ALTER TABLE services ADD COLUMN night_cutoff_zone TEXT;
