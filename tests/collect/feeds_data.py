"""Small feed documents used across the collect tests."""

from __future__ import annotations

import json

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>UNODC press</title><link>https://example.org/</link>
<language>en-GB</language>
<item><title>Drug trafficking route disrupted</title>
<link>https://example.org/press/1?utm_source=rss</link><guid isPermaLink="false">unodc-1</guid>
<pubDate>Fri, 16 Nov 2018 10:00:00 GMT</pubDate>
<description>&lt;p&gt;First paragraph &lt;b&gt;bold&lt;/b&gt;.&lt;/p&gt;
&lt;script&gt;alert(1)&lt;/script&gt;&lt;p&gt;Second.&lt;/p&gt;</description>
<category>Drug Trafficking</category></item>
<item><title>No guid here</title><link>https://example.org/press/2</link>
<description>Plain text summary</description></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>OSCE</title><id>urn:osce</id>
<updated>2024-05-01T10:00:00Z</updated>
<entry><title type="html">Corruption &amp;lt;conference&amp;gt;</title><id>urn:osce:1</id>
<link href="/news/1"/><published>2024-05-01T08:30:00+02:00</published>
<updated>2024-05-02T08:30:00Z</updated>
<content type="html">&lt;p&gt;Body one.&lt;/p&gt;&lt;p&gt;Further information:&lt;/p&gt;
&lt;ul&gt;&lt;li&gt;UNODC on Corruption&lt;/li&gt;&lt;/ul&gt;</content>
</entry></feed>
"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.net/"><title>RDF news</title><link>https://example.net/</link>
<description>d</description></channel>
<item rdf:about="https://example.net/a"><title>RDF item</title><link>https://example.net/a</link>
<dc:date>2020-02-03T04:05:06Z</dc:date><description>Terrorism prevention.</description></item>
</rdf:RDF>
"""

JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Europol",
        "language": "en",
        "items": [
            {
                "id": "e-1",
                "url": "https://example.com/e1",
                "title": "Trafficking ring dismantled",
                "content_html": "<p>Officers <em>arrested</em> 12.</p><p>Second para.</p>",
                "summary": "Twelve arrests",
                "date_published": "2024-03-01T09:00:00Z",
                "tags": ["Trafficking in Persons"],
                "authors": [{"name": "Press Office"}],
            },
            {"id": 2, "content_text": "Only text\n\nin two paragraphs"},
            "not an item",
        ],
    }
)


def rss_items(n: int, stamp: str = "") -> str:
    items = "".join(
        f"<item><title>Item {i}</title><link>https://example.org/{i}</link>"
        f"<guid isPermaLink='false'>g{i}</guid>"
        f"<description>Body {i}<!-- generated {stamp} --></description></item>"
        for i in range(n)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        f"<lastBuildDate>{stamp}</lastBuildDate>{items}</channel></rss>"
    )
