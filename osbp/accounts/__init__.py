"""People's own account pages (password, second factor) and the admin's accounts and devices pages."""
