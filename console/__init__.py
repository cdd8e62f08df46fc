"""工作台: the web console for the people who are not programs.

Finance officers, caseworkers, reviewers and county or province staff sign in with the union's
OpenID Connect provider and work through pages that call the four services' APIs with their own
token. The console keeps no data and no rule of its own: every figure it shows is one a service
answered, so a page can never disagree with the API.
"""
