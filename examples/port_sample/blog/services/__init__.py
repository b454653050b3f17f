"""Services: users, posts and comments; the posts service calls the users service."""
