"""The roster: who is in which class. Pupils and teachers join and leave classes (``actions``), and
a school's administrators import the pupil list their school system exports (``reader`` turns the
CSV into a plan, ``actions.import_roster`` applies it, ``views`` is the upload, preview and
confirmation). It sits above accounts and tenancy: it creates accounts and memberships."""
