"""The reading core of Where You Stand: pure functions from raw mail to a verdict.

Nothing in this package does I/O: no sockets, no files (except reading its own
bundled rule data at import), no clock, no environment. Bytes and strings go in,
frozen dataclasses come out. The server and the CLI do the I/O at the edges.

    parsers.mime       bytes -> Email
    parsers.reply      newest reply only, with offsets back into the original
    parsers.employer   company (ATS-aware) and role
    parsers.classify   label + confidence + evidence, from rules kept as data
    parsers.deadlines  promised reply-by date, relative to the email's Date
    parsers.pipeline   all of the above for one message -> Reading
"""
