#!/usr/bin/env python3
# Writes src/value_names.h (the name dictionary of discover()): python3 scripts/gen_value_names.py > src/value_names.h
given = """
james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark donald steven paul andrew joshua
kenneth kevin brian george timothy ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon
benjamin samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan henry douglas zachary peter kyle
noah ethan jeremy walter christian keith roger terry austin sean gerald carl harold dylan arthur lawrence jordan jesse bryan billy bruce
gabriel joe logan alan juan albert willie elijah wayne randy vincent liam oliver harry charlie oscar leo archie alfie freddie
mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra margaret ashley kimberly emily donna
michelle carol amanda melissa deborah stephanie dorothy rebecca sharon laura cynthia amy kathleen angela shirley brenda emma anna pamela
nicole samantha katherine christine helen debra rachel carolyn janet maria catherine heather diane olivia julie joyce victoria ruth
virginia lauren kelly christina joan evelyn judith andrea hannah megan cheryl jacqueline martha madison teresa gloria sara janice ann
kathryn abigail sophia frances jean alice judy isabella julia grace amber denise danielle marilyn beverly charlotte natalie theresa
diana brittany doris kayla alexis lori marie chloe ella lily mia amelia poppy isla ava jessica sophie lucy ellie freya
erik lars karl anders johan per nils jan lennart olof hans gunnar sven fredrik bengt peter mikael stefan bo magnus mats ulf bertil leif
björn göran åke christer tommy kjell rolf ingvar rune stig håkan jonas niklas martin daniel andreas mattias henrik joakim patrik tobias
oskar viktor emil axel hugo william lucas elias filip isak ludvig alfred albin anton sixten gustav vilgot melvin wilmer oliver
maria elisabeth anna kristina margareta eva birgitta karin marie ingrid christina linnéa sofia kerstin lena helena inger sara emma
johanna ulla malin ida annika gunilla susanne hanna ingegerd elin linda camilla åsa barbro carina monica jenny ulrika madeleine
agneta louise matilda julia astrid alice maja ella wilma ebba saga freja elsa alma selma vera stina siv britt märta greta signe
""".split()
surnames = """
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson anderson thomas taylor moore
jackson martin lee perez thompson white harris sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen
hill flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker cruz edwards
collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox
ward richardson watson brooks chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross
foster jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes fisher vasquez simmons graham jordan
andersson johansson karlsson nilsson eriksson larsson olsson persson svensson gustafsson pettersson jonsson jansson hansson bengtsson
jönsson lindberg jakobsson magnusson lindström olofsson lindqvist lindgren berg axelsson bergström lundberg lundgren lind lundqvist
mattsson berglund fredriksson sandberg henriksson forsberg sjöberg wallin ali engström mohammed eklund danielsson håkansson lundin
björk bergman gunnarsson holm wikström samuelsson isaksson fransson bergqvist nyström holmberg arvidsson löfgren söderberg nyberg
blomqvist claesson nordström mårtensson lundström viklund björklund eliasson pålsson berggren sandström lund nordin ström åberg
hermansson ekström holmgren sundberg hedlund dahlberg hellström sjögren abrahamsson falk öberg strand ek dahl
""".split()
def c(name, words):
    ws = sorted(set(w.encode() for w in words))
    out = "static const char *const %s[] = {\n" % name
    line = "\t"
    for w in ws:
        item = '"%s", ' % w.decode()
        if len(line) + len(item) > 76:
            out += line.rstrip() + "\n"; line = "\t"
        line += item
    out += line.rstrip() + "\n};\n"
    return out, len(ws)
g, ng = c("pt_given_names", given)
s, ns = c("pt_surnames", surnames)
print("""/*
 * value_names.h
 *	  The dictionary of common given names and surnames (English and
 *	  Swedish) that discover()'s name recogniser looks values up in.
 *
 * Data, included by value_match.c only.  Lower case UTF-8, sorted by byte
 * (strcmp order) for bsearch: keep them sorted when adding names
 * (scripts/gen_value_names.py writes this file).  %d given names, %d surnames.
 */
#ifndef PRIVACY_TAGS_VALUE_NAMES_H
#define PRIVACY_TAGS_VALUE_NAMES_H

""" % (ng, ns) + g + "\n" + s + "\n#endif\t\t\t\t\t\t\t/* PRIVACY_TAGS_VALUE_NAMES_H */")
