"""Exit status 0 when every non-void HTML tag of the file named by argv[1] is closed in order
(python's html.parser). Used by tests/lua/reports.sh."""
import sys
from html.parser import HTMLParser
void = {"meta", "br", "img", "hr", "input", "link"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.bad = False
    def handle_starttag(self, t, a):
        if t not in void: self.stack.append(t)
    def handle_startendtag(self, t, a): pass
    def handle_endtag(self, t):
        if not self.stack or self.stack.pop() != t: self.bad = True
p = P(); p.feed(open(sys.argv[1]).read()); p.close()
sys.exit(1 if p.bad or p.stack else 0)
