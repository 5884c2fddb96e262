#!/usr/bin/env python3
"""Generate the NASA example's raw access logs, deterministically.

Writes data/raw/access_log_1995-07.log and data/raw/access_log_1995-08.log (relative to the
example's root, whatever the current directory) in Common Log Format, shaped like the NASA
Kennedy Space Center logs of July and August 1995:

    199.72.81.55 - - [01/Jul/1995:00:00:01 -0400] "GET /history/apollo/ HTTP/1.0" 200 6245

Each day has a few hundred lines in time order; about one line in 500 is malformed (truncated,
garbage, or missing a quote) so that the `common_log` format's `malformed = "skip"` has work to do.
The same seed always gives the same bytes: rerunning this script changes nothing.

Usage: python3 tools/generate_logs.py
"""

import calendar
import os
import random

SEED = 19950701
YEAR = 1995
MONTHS = (7, 8)
LINES_PER_DAY = (200, 400)
MALFORMED_ONE_IN = 500
TIMEZONE = "-0400"
MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# (url, weight, size in bytes of a 200 response, share of 404s). A few urls are broken links
# or flaky scripts so that the error rates differ between urls.
URLS = (
    ("/images/NASA-logosmall.gif", 120, 786, 0.002),
    ("/images/KSC-logosmall.gif", 100, 1204, 0.002),
    ("/images/MOSAIC-logosmall.gif", 60, 363, 0.002),
    ("/images/USA-logosmall.gif", 60, 234, 0.002),
    ("/images/WORLD-logosmall.gif", 55, 669, 0.002),
    ("/images/ksclogo-medium.gif", 50, 5866, 0.003),
    ("/images/launch-logo.gif", 45, 1713, 0.003),
    ("/images/NASA-logo.gif", 8, 0, 1.0),  # a broken link: always 404
    ("/images/construct.gif", 15, 1414, 0.01),
    ("/images/shuttle-patch-logo.gif", 12, 891, 0.01),
    ("/shuttle/countdown/", 45, 3985, 0.005),
    ("/shuttle/countdown/count.gif", 40, 40310, 0.005),
    ("/shuttle/countdown/video/livevideo.gif", 25, 70712, 0.02),
    ("/shuttle/countdown/liftoff.html", 10, 4538, 0.02),
    ("/shuttle/countdown/countdown.html", 5, 0, 0.7),  # moved: mostly 404
    ("/shuttle/missions/missions.html", 30, 8677, 0.005),
    ("/shuttle/missions/sts-69/mission-sts-69.html", 25, 11264, 0.01),
    ("/shuttle/missions/sts-69/sts-69-patch-small.gif", 22, 8083, 0.01),
    ("/shuttle/missions/sts-70/mission-sts-70.html", 28, 13116, 0.01),
    ("/shuttle/missions/sts-70/sts-70-patch-small.gif", 24, 5978, 0.01),
    ("/shuttle/missions/sts-71/mission-sts-71.html", 26, 12040, 0.01),
    ("/shuttle/missions/sts-71/sts-71-patch-small.gif", 22, 12054, 0.01),
    ("/shuttle/missions/sts-71/images/images.html", 14, 7634, 0.03),
    ("/shuttle/missions/sts-71/images/KSC-95EC-0916.txt", 4, 0, 0.9),  # mostly 404
    ("/shuttle/missions/sts-73/mission-sts-73.html", 10, 4096, 0.05),
    ("/shuttle/technology/sts-newsref/stsref-toc.html", 12, 84907, 0.01),
    ("/shuttle/technology/sts-newsref/sts_asm.html", 6, 71024, 0.01),
    ("/shuttle/resources/orbiters/endeavour.html", 8, 6168, 0.01),
    ("/shuttle/resources/orbiters/atlantis.html", 8, 7025, 0.01),
    ("/history/apollo/", 20, 6245, 0.005),
    ("/history/apollo/apollo.html", 18, 3258, 0.005),
    ("/history/apollo/apollo-13/apollo-13.html", 22, 18114, 0.01),
    ("/history/apollo/apollo-13/apollo-13-info.html", 10, 1457, 0.01),
    ("/history/apollo/apollo-13/images/", 8, 1851, 0.02),
    ("/history/apollo/images/apollo-logo1.gif", 16, 1173, 0.005),
    ("/history/history.html", 14, 1502, 0.005),
    ("/history/skylab/skylab.html", 6, 1659, 0.02),
    ("/software/winvn/winvn.html", 9, 9867, 0.01),
    ("/facilities/lc39a.html", 7, 7008, 0.02),
    ("/ksc.html", 40, 7074, 0.002),
    ("/htbin/cdt_main.pl", 10, 3092, 0.0),  # a script: sometimes 500
)
FLAKY_URL = "/htbin/cdt_main.pl"
POST_URL = "/cgi-bin/imagemap/countdown"

DOMAINS = ("prodigy.com", "ix.netcom.com", "proxy.aol.com", "compuserve.com", "aa.net",
           "letters.com", "unicomp.net", "gate.net", "mindspring.com", "interlog.com",
           "ksc.nasa.gov", "jsc.nasa.gov", "ucla.edu", "mit.edu", "cs.cmu.edu", "fiu.edu",
           "netcom.com", "primenet.com", "erols.com", "dialup.access.net")


def make_hosts(rng):
    """A pool of clients, heaviest first: proxies and dial-up hosts, and bare IP addresses."""
    hosts = []
    for i in range(1, 9):
        hosts.append("piweba%dy.prodigy.com" % rng.randint(1, 4) if i % 2 else
                     "www-%s%d.proxy.aol.com" % (rng.choice("abcd"), rng.randint(1, 6)))
    for _ in range(140):
        domain = rng.choice(DOMAINS)
        kind = rng.randrange(4)
        if kind == 0:
            name = "ix-%s%d-%d" % (rng.choice(("sea", "den", "nyc", "sj", "dc")),
                                   rng.randint(1, 9), rng.randint(1, 30))
        elif kind == 1:
            name = "d%d" % rng.randint(1, 250)
        elif kind == 2:
            name = "%s%d" % (rng.choice(("ppp", "slip", "dialup", "port")), rng.randint(1, 99))
        else:
            name = rng.choice(("burger", "unicomp6", "gw1", "news", "pc", "mac", "sun"))
            name += str(rng.randint(1, 40))
        hosts.append("%s.%s" % (name, domain))
    for _ in range(110):
        hosts.append("%d.%d.%d.%d" % (rng.choice((128, 129, 192, 198, 199, 204, 205)),
                                      rng.randint(1, 254), rng.randint(1, 254), rng.randint(1, 254)))
    hosts = sorted(set(hosts))
    rng.shuffle(hosts)
    weights = [1.0 / (rank + 3) for rank in range(len(hosts))]
    return hosts, weights


def response(rng, url, size, missing):
    """The status and the bytes field ("-" or a number) of one request."""
    if rng.random() < missing:
        return 404, "-" if rng.random() < 0.6 else "0"
    if url == FLAKY_URL and rng.random() < 0.08:
        return 500, "-"
    roll = rng.random()
    if roll < 0.085:
        return 304, "0" if rng.random() < 0.7 else "-"
    if roll < 0.100:
        return 302, str(rng.randint(180, 240))
    if roll < 0.102:
        return 403, "-" if rng.random() < 0.5 else "0"
    if roll < 0.103:
        return 500, "-"
    if roll < 0.105:
        return 404, "-" if rng.random() < 0.6 else "0"
    return 200, str(size if size else rng.randint(1000, 9000))


def well_formed_line(rng, hosts, host_weights, urls, url_weights, day_tuple, second):
    url, size, missing = rng.choices(urls, weights=url_weights)[0]
    method = "GET"
    roll = rng.random()
    if roll < 0.008:
        method = "HEAD"
    elif roll < 0.010:
        method, url, size, missing = "POST", POST_URL, 97, 0.0
    status, nbytes = response(rng, url, size, missing)
    if method == "HEAD" and status == 200:
        nbytes = "0"
    request = "%s %s" % (method, url)
    if rng.random() > 0.004:  # a few old clients send no protocol: "GET /x"
        request += " HTTP/1.0"
    year, month, day = day_tuple
    stamp = "%02d/%s/%04d:%02d:%02d:%02d %s" % (
        day, MONTH_ABBR[month], year, second // 3600, second // 60 % 60, second % 60, TIMEZONE)
    host = rng.choices(hosts, weights=host_weights)[0]
    return '%s - - [%s] "%s" %d %s' % (host, stamp, request, status, nbytes)


def malformed(rng, line):
    """Breaks a line the way real logs break: cut short, a missing quote, or garbage."""
    kind = rng.randrange(3)
    if kind == 0:  # truncated before the status (the writer died mid-line)
        return line[:rng.randint(10, line.index('"', line.index('"') + 1))]
    if kind == 1:  # a missing closing quote
        second = line.index('"', line.index('"') + 1)
        return line[:second] + line[second + 1:]
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789[]/:;.-_ %$#@!"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 60)))


def generate_month(rng, hosts, host_weights, year, month):
    """Yields (line, well_formed) for every line of one month, in time order."""
    urls = [(u, size, missing) for (u, _, size, missing) in URLS]
    url_weights = [w for (_, w, _, _) in URLS]
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        count = rng.randint(*LINES_PER_DAY)
        for second in sorted(rng.randrange(86400) for _ in range(count)):
            line = well_formed_line(rng, hosts, host_weights, urls, url_weights,
                                    (year, month, day), second)
            if rng.randrange(MALFORMED_ONE_IN) == 0:
                yield malformed(rng, line), False
            else:
                yield line, True


def generate():
    """Yields (file name, [(line, well_formed)]) for each month, from the fixed seed."""
    rng = random.Random(SEED)
    hosts, host_weights = make_hosts(rng)
    for month in MONTHS:
        name = "access_log_%04d-%02d.log" % (YEAR, month)
        yield name, list(generate_month(rng, hosts, host_weights, YEAR, month))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = os.path.join(root, "data", "raw")
    os.makedirs(out_dir, exist_ok=True)
    for name, lines in generate():
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="ascii", newline="\n") as out:
            for line, _ in lines:
                out.write(line + "\n")
        bad = sum(1 for _, ok in lines if not ok)
        print("%s: %d lines, %d malformed" % (os.path.relpath(path, root), len(lines), bad))


if __name__ == "__main__":
    main()
