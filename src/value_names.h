/*
 * value_names.h
 *	  The dictionary of common given names and surnames (English and
 *	  Swedish) that discover()'s name recogniser looks values up in.
 *
 * Data, included by value_match.c only.  Lower case UTF-8, sorted by byte
 * (strcmp order) for bsearch: keep them sorted when adding names
 * (scripts/gen_value_names.py writes this file).  324 given names, 204 surnames.
 */
#ifndef PRIVACY_TAGS_VALUE_NAMES_H
#define PRIVACY_TAGS_VALUE_NAMES_H

static const char *const pt_given_names[] = {
	"aaron", "abigail", "adam", "agneta", "alan", "albert", "albin",
	"alexander", "alexis", "alfie", "alfred", "alice", "alma", "amanda",
	"amber", "amelia", "amy", "anders", "andrea", "andreas", "andrew",
	"angela", "ann", "anna", "annika", "anthony", "anton", "archie", "arthur",
	"ashley", "astrid", "austin", "ava", "axel", "barbara", "barbro", "bengt",
	"benjamin", "bertil", "betty", "beverly", "billy", "birgitta", "björn",
	"bo", "brandon", "brenda", "brian", "britt", "brittany", "bruce", "bryan",
	"camilla", "carina", "carl", "carol", "carolyn", "catherine", "charles",
	"charlie", "charlotte", "cheryl", "chloe", "christer", "christian",
	"christina", "christine", "christopher", "cynthia", "daniel", "danielle",
	"david", "deborah", "debra", "denise", "dennis", "diana", "diane",
	"donald", "donna", "doris", "dorothy", "douglas", "dylan", "ebba",
	"edward", "elias", "elijah", "elin", "elisabeth", "elizabeth", "ella",
	"ellie", "elsa", "emil", "emily", "emma", "eric", "erik", "ethan", "eva",
	"evelyn", "filip", "frances", "frank", "freddie", "fredrik", "freja",
	"freya", "gabriel", "gary", "george", "gerald", "gloria", "grace",
	"gregory", "greta", "gunilla", "gunnar", "gustav", "göran", "hanna",
	"hannah", "hans", "harold", "harry", "heather", "helen", "helena",
	"henrik", "henry", "hugo", "håkan", "ida", "ingegerd", "inger", "ingrid",
	"ingvar", "isabella", "isak", "isla", "jack", "jacob", "jacqueline",
	"james", "jan", "janet", "janice", "jason", "jean", "jeffrey", "jennifer",
	"jenny", "jeremy", "jerry", "jesse", "jessica", "joakim", "joan", "joe",
	"johan", "johanna", "john", "jonas", "jonathan", "jordan", "jose",
	"joseph", "joshua", "joyce", "juan", "judith", "judy", "julia", "julie",
	"justin", "karen", "karin", "karl", "katherine", "kathleen", "kathryn",
	"kayla", "keith", "kelly", "kenneth", "kerstin", "kevin", "kimberly",
	"kjell", "kristina", "kyle", "larry", "lars", "laura", "lauren",
	"lawrence", "leif", "lena", "lennart", "leo", "liam", "lily", "linda",
	"linnéa", "lisa", "logan", "lori", "louise", "lucas", "lucy", "ludvig",
	"madeleine", "madison", "magnus", "maja", "malin", "margaret",
	"margareta", "maria", "marie", "marilyn", "mark", "martha", "martin",
	"mary", "matilda", "mats", "matthew", "mattias", "megan", "melissa",
	"melvin", "mia", "michael", "michelle", "mikael", "monica", "märta",
	"nancy", "natalie", "nathan", "nicholas", "nicole", "niklas", "nils",
	"noah", "oliver", "olivia", "olof", "oscar", "oskar", "pamela",
	"patricia", "patrick", "patrik", "paul", "per", "peter", "poppy",
	"rachel", "randy", "raymond", "rebecca", "richard", "robert", "roger",
	"rolf", "ronald", "rune", "ruth", "ryan", "saga", "samantha", "samuel",
	"sandra", "sara", "sarah", "scott", "sean", "selma", "sharon", "shirley",
	"signe", "siv", "sixten", "sofia", "sophia", "sophie", "stefan",
	"stephanie", "stephen", "steven", "stig", "stina", "susan", "susanne",
	"sven", "teresa", "terry", "theresa", "thomas", "timothy", "tobias",
	"tommy", "tyler", "ulf", "ulla", "ulrika", "vera", "victoria", "viktor",
	"vilgot", "vincent", "virginia", "walter", "wayne", "william", "willie",
	"wilma", "wilmer", "zachary", "åke", "åsa",
};

static const char *const pt_surnames[] = {
	"abrahamsson", "adams", "ali", "allen", "alvarez", "anderson",
	"andersson", "arvidsson", "axelsson", "bailey", "baker", "barnes", "bell",
	"bengtsson", "bennett", "berg", "berggren", "berglund", "bergman",
	"bergqvist", "bergström", "björk", "björklund", "blomqvist", "brooks",
	"brown", "butler", "campbell", "carter", "castillo", "chavez", "claesson",
	"clark", "coleman", "collins", "cook", "cooper", "cox", "cruz", "dahl",
	"dahlberg", "danielsson", "davis", "diaz", "edwards", "ek", "eklund",
	"ekström", "eliasson", "engström", "eriksson", "evans", "falk", "fisher",
	"flores", "forsberg", "foster", "fransson", "fredriksson", "garcia",
	"gomez", "gonzalez", "graham", "gray", "green", "gunnarsson",
	"gustafsson", "gutierrez", "hall", "hansson", "harris", "hedlund",
	"hellström", "henderson", "henriksson", "hermansson", "hernandez", "hill",
	"holm", "holmberg", "holmgren", "howard", "hughes", "håkansson",
	"isaksson", "jackson", "jakobsson", "james", "jansson", "jenkins",
	"jimenez", "johansson", "johnson", "jones", "jonsson", "jordan",
	"jönsson", "karlsson", "kelly", "kim", "king", "larsson", "lee", "lewis",
	"lind", "lindberg", "lindgren", "lindqvist", "lindström", "long", "lopez",
	"lund", "lundberg", "lundgren", "lundin", "lundqvist", "lundström",
	"löfgren", "magnusson", "martin", "martinez", "mattsson", "mendoza",
	"miller", "mitchell", "mohammed", "moore", "morales", "morgan", "morris",
	"murphy", "myers", "mårtensson", "nelson", "nguyen", "nilsson", "nordin",
	"nordström", "nyberg", "nyström", "olofsson", "olsson", "ortiz", "parker",
	"patel", "perez", "perry", "persson", "peterson", "pettersson",
	"phillips", "powell", "price", "pålsson", "ramirez", "ramos", "reed",
	"reyes", "richardson", "rivera", "roberts", "robinson", "rodriguez",
	"rogers", "ross", "ruiz", "russell", "samuelsson", "sanchez", "sandberg",
	"sanders", "sandström", "scott", "simmons", "sjöberg", "sjögren", "smith",
	"stewart", "strand", "ström", "sullivan", "sundberg", "svensson",
	"söderberg", "taylor", "thomas", "thompson", "torres", "turner",
	"vasquez", "viklund", "walker", "wallin", "ward", "watson", "white",
	"wikström", "williams", "wilson", "wood", "wright", "young", "åberg",
	"öberg",
};

#endif							/* PRIVACY_TAGS_VALUE_NAMES_H */
